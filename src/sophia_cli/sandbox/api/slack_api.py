"""Fake Slack Web API: auth.test, users.list, conversations.list/.history/.replies.

Errors are HTTP 200 with `{"ok": false, "error": code}`; paging is `response_metadata.next_cursor`
with "" on the last page, and pages are sometimes shorter than `limit` (as Slack warns).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sophia_cli.sandbox.dataset import Record
from sophia_cli.sandbox.state import Sandbox

Handler = Callable[[Sandbox, dict[str, str]], Response]
CHANNEL_TYPES = ("public_channel", "private_channel", "mpim", "im")


class SlackError(Exception):
    """An `ok: false` answer."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def ok(body: dict[str, Any]) -> JSONResponse:
    """A successful Web API answer."""
    return JSONResponse({"ok": True, **body})


def fault_response(kind: str, retry_after: int) -> Response:
    """What Slack answers for a scripted fault of `kind`."""
    if kind == "429":
        return JSONResponse({"ok": False, "error": "ratelimited"}, status_code=429)
    if kind in ("500", "502", "503"):
        return JSONResponse({"ok": False, "error": "internal_error"}, status_code=int(kind))
    if kind == "401":
        return JSONResponse({"ok": False, "error": "invalid_auth"})
    if kind == "expired_offset":
        return JSONResponse({"ok": False, "error": "invalid_cursor"})
    return JSONResponse(
        {
            "ok": True,
            "warning": "superfluous_charset",
            "response_metadata": {"warnings": ["superfluous_charset"]},
        }
    )


def ts_key(ts: str) -> tuple[int, int]:
    """Order Slack ts values exactly (floats lose the last digits)."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int((fraction + "000000")[:6])


def encode_cursor(kind: str, value: str) -> str:
    """An opaque cursor."""
    return base64.b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> str:
    """The value inside a cursor of `kind`, or invalid_cursor."""
    try:
        prefix, _, value = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    if prefix != kind or not value:
        raise SlackError("invalid_cursor")
    return value


def page_size(limit: int, position: str) -> int:
    """`limit`, or one less on about a quarter of pages (Slack may return short pages)."""
    return limit - 1 if limit > 2 and zlib.crc32(position.encode()) % 4 == 0 else limit


def parse_limit(raw: str | None, default: int, maximum: int, *, strict: bool) -> int:
    """A `limit` argument: refused (strict) or clamped when out of range."""
    if raw in (None, ""):
        return default
    try:
        limit = int(str(raw))
    except ValueError as exc:
        raise SlackError("invalid_limit") from exc
    if limit < 1 or limit > maximum:
        if strict:
            raise SlackError("invalid_limit")
        return min(max(limit, 1), maximum) if limit >= 1 else default
    return limit


def parse_ts(raw: str | None, default: str, error: str) -> tuple[int, int]:
    """An `oldest`/`latest` argument as an exact ts key, or `error`."""
    value = default if raw in (None, "") else str(raw)
    try:
        float(value)
        return ts_key(value if "." in value else value + ".0")
    except ValueError as exc:
        raise SlackError(error) from exc


def public(record: Record) -> Record:
    """A record without the sandbox's own underscore fields."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def auth_test(sb: Sandbox, params: dict[str, str]) -> Response:
    """auth.test for the bot token."""
    slack = sb.data.slack
    return ok(
        {
            "url": "https://brightline.slack.com/",
            "team": slack.team_name,
            "user": "sophia",
            "team_id": slack.team_id,
            "user_id": slack.bot_user_id,
            "bot_id": slack.bot_id,
            "is_enterprise_install": False,
        }
    )


def users_list(sb: Sandbox, params: dict[str, str]) -> Response:
    """users.list, paged when `limit` is sent."""
    users = sorted(sb.data.slack.users.values(), key=lambda u: u["id"])
    if params.get("limit") in (None, "", "0"):
        if len(users) > 1000:
            raise SlackError("limit_required")
        return ok(
            {
                "members": [public(u) for u in users],
                "cache_ts": int(_now_s(sb)),
                "response_metadata": {"next_cursor": ""},
            }
        )
    limit = parse_limit(params.get("limit"), 0, 1000, strict=False)
    start = decode_cursor(params["cursor"], "user") if params.get("cursor") else ""
    rest = [u for u in users if u["id"] >= start]
    page = rest[: page_size(limit, start)]
    more = len(rest) > len(page)
    return ok(
        {
            "members": [public(u) for u in page],
            "cache_ts": int(_now_s(sb)),
            "response_metadata": {
                "next_cursor": encode_cursor("user", rest[len(page)]["id"]) if more else ""
            },
        }
    )


def conversations_list(sb: Sandbox, params: dict[str, str]) -> Response:
    """conversations.list: public channels, and private ones the bot is in."""
    types = [t.strip() for t in params.get("types", "public_channel").split(",") if t.strip()]
    if not types or any(t not in CHANNEL_TYPES for t in types):
        raise SlackError("invalid_types")
    limit = parse_limit(params.get("limit"), 100, 999, strict=True)
    exclude_archived = params.get("exclude_archived", "false").lower() in ("true", "1")
    channels = [
        c
        for c in sorted(sb.data.slack.channels.values(), key=lambda c: c["id"])
        if ("private_channel" if c["is_private"] else "public_channel") in types
        and (c["is_member"] or not c["is_private"])
        and not (exclude_archived and c["is_archived"])
    ]
    start = decode_cursor(params["cursor"], "channel") if params.get("cursor") else ""
    rest = [c for c in channels if c["id"] >= start]
    page = rest[: page_size(limit, start)]
    more = len(rest) > len(page)
    return ok(
        {
            "channels": [public(c) for c in page],
            "response_metadata": {
                "next_cursor": encode_cursor("channel", rest[len(page)]["id"]) if more else ""
            },
        }
    )


def _channel(sb: Sandbox, params: dict[str, str]) -> Record:
    """The channel the bot may read, or channel_not_found / not_in_channel."""
    channel = sb.data.slack.channels.get(params.get("channel", ""))
    if channel is None:
        raise SlackError("channel_not_found")
    if not channel["is_member"]:
        raise SlackError("not_in_channel")
    return channel


def _window(params: dict[str, str], sb: Sandbox) -> Callable[[str], bool]:
    """The oldest/latest/inclusive window as a predicate on ts."""
    oldest = parse_ts(params.get("oldest"), "0", "invalid_ts_oldest")
    latest = parse_ts(params.get("latest"), _now_s(sb), "invalid_ts_latest")
    inclusive = params.get("inclusive", "false").lower() in ("true", "1")

    def inside(ts: str) -> bool:
        key = ts_key(ts)
        if inclusive:
            return oldest <= key <= latest
        return oldest < key < latest

    return inside


def _capped(sb: Sandbox, limit: int) -> int:
    """`limit`, lowered to the regime's page cap (15 for limited apps)."""
    cap = sb.slack_page_cap()
    return limit if cap is None else min(limit, cap)


def conversations_history(sb: Sandbox, params: dict[str, str]) -> Response:
    """conversations.history: parents only, newest first."""
    channel = _channel(sb, params)
    limit = _capped(sb, parse_limit(params.get("limit"), 100, 999, strict=False))
    inside = _window(params, sb)
    messages = sorted(
        (m for m in sb.data.slack.messages[channel["id"]].values() if inside(m["ts"])),
        key=lambda m: ts_key(m["ts"]),
        reverse=True,
    )
    if params.get("cursor"):
        start = ts_key(decode_cursor(params["cursor"], "next_ts"))
        messages = [m for m in messages if ts_key(m["ts"]) <= start]
    page = messages[: page_size(limit, params.get("cursor", ""))]
    more = len(messages) > len(page)
    return ok(
        {
            "messages": [public(m) for m in page],
            "has_more": more,
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {
                "next_cursor": encode_cursor("next_ts", messages[len(page)]["ts"]) if more else ""
            },
        }
    )


def conversations_replies(sb: Sandbox, params: dict[str, str]) -> Response:
    """conversations.replies: the parent, then replies ascending."""
    channel = _channel(sb, params)
    ts = params.get("ts", "")
    if not ts:
        raise SlackError("thread_not_found")
    messages, replies = sb.data.slack.messages[channel["id"]], sb.data.slack.replies[channel["id"]]
    parent_ts = (
        ts
        if ts in messages
        else next((t for t, thread in replies.items() if any(r["ts"] == ts for r in thread)), None)
    )
    if parent_ts is None:
        raise SlackError("thread_not_found")
    limit = _capped(sb, parse_limit(params.get("limit"), 1000, 1000, strict=False))
    inside = _window(params, sb)
    thread = [messages[parent_ts], *(r for r in replies.get(parent_ts, []) if inside(r["ts"]))]
    if params.get("cursor"):
        start = ts_key(decode_cursor(params["cursor"], "ts"))
        thread = [m for m in thread if ts_key(m["ts"]) >= start and m["ts"] != parent_ts]
    page = thread[: page_size(limit, params.get("cursor", ""))]
    more = len(thread) > len(page)
    return ok(
        {
            "messages": [public(m) for m in page],
            "has_more": more,
            "response_metadata": {
                "next_cursor": encode_cursor("ts", thread[len(page)]["ts"]) if more else ""
            },
        }
    )


def _now_s(sb: Sandbox) -> str:
    """`latest`'s default: just after now, in epoch seconds."""
    return str(int(sb.clock.now().timestamp()) + 1)


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.list": users_list,
    "conversations.list": conversations_list,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
}


async def request_params(request: Request) -> dict[str, str]:
    """Arguments from the query string and, for POST, the form or JSON body."""
    params = dict(request.query_params)
    if request.method == "POST":
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"{}")
            except json.JSONDecodeError as exc:
                raise SlackError("invalid_form_data") from exc
            if not isinstance(body, dict):
                raise SlackError("invalid_arguments")
            params.update({k: str(v) for k, v in body.items()})
        else:
            form = await request.form()
            params.update({k: str(v) for k, v in form.items()})
    return params


def authenticate(sb: Sandbox, request: Request, params: dict[str, str]) -> None:
    """Bearer header or `token` argument; not_authed / invalid_auth otherwise."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else params.get("token")
    if not token:
        raise SlackError("not_authed")
    if token != sb.tokens.slack:
        raise SlackError("invalid_auth")


def routes(sb: Sandbox) -> list[Route]:
    """One route per Web API method, answering GET and POST."""

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            try:
                params = await request_params(request)
                authenticate(sb, request, params)
                with sb.lock:
                    return handler(sb, params)
            except SlackError as exc:
                return JSONResponse({"ok": False, "error": exc.code, **exc.extra})

        return serve

    async def unknown(request: Request) -> Response:
        return JSONResponse({"ok": False, "error": "unknown_method"}, status_code=404)

    return [
        *(Route(f"/{name}", endpoint(h), methods=["GET", "POST"]) for name, h in METHODS.items()),
        Route("/{method:path}", unknown, methods=["GET", "POST"]),
    ]
