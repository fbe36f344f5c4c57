"""Slack Web API: users, channels, and messages with their thread replies.

Messages are incremental per channel on `ts` with a look-back window re-read every run,
because replies and edits arrive after their parent. A parent whose thread changed
(`latest_reply` differs from the warehouse) is stored together with its replies, so a crash
between the two cannot make the next run believe the thread is up to date.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors.registry import register
from sophia_cli.core.sync.errors import (
    SourceAuthError,
    SourceScopeError,
    TerminalApiError,
    TokenMissingError,
    TransientApiError,
)
from sophia_cli.core.sync.http import ApiClient, decode, shape_error, transient_status
from sophia_cli.core.sync.limiter import SlidingWindowLimiter
from sophia_cli.core.sync.streams import Conn, Page, Row, Stream, StreamContext, Table, TextDoc
from sophia_cli.core.sync.values import from_epoch

TOKEN = "SLACK_BOT_TOKEN"
PAGE_LIMIT = 200
_AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                "token_expired", "no_permission"}
_TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                     "request_timeout"}
# Tiers from Slack's docs: users.list and conversations.list Tier 2, history/replies Tier 3.
_BUCKETS = {"tier2": (20, 60.0), "tier3": (50, 60.0), "special": (100, 60.0)}
_METHOD_BUCKET = {"users.list": "tier2", "conversations.list": "tier2",
                  "conversations.history": "tier3", "conversations.replies": "tier3",
                  "auth.test": "special"}


class ChannelUnreadable(TerminalApiError):
    """not_in_channel / channel_not_found: reported, not fatal."""


def _classify(response: httpx.Response) -> None:
    transient_status(response, "Slack")
    if response.status_code != 200:
        raise TerminalApiError(f"Slack {response.request.url.path} answered {response.status_code}")
    body = decode(response, "Slack")
    if not isinstance(body, dict) or "ok" not in body:
        raise shape_error("Slack", response.request.url.path, "no `ok` field", body)
    if body["ok"]:
        return
    error = str(body.get("error", "unknown_error"))
    if error in _AUTH_ERRORS:
        raise SourceAuthError(
            f"Slack rejected {TOKEN} ({error})",
            hint=f"Set {TOKEN} to a valid bot token (xoxb-…) of the installed Slack app.",
        )
    if error == "missing_scope":
        raise SourceScopeError(
            f"Slack token lacks scope {body.get('needed', '?')} (has {body.get('provided', '?')})",
            hint=f"Add the scope to the Slack app, reinstall it, and update {TOKEN}.",
        )
    if error in _TRANSIENT_ERRORS:
        raise TransientApiError(f"Slack {error}", retry_after_s=None)
    if error in ("not_in_channel", "channel_not_found"):
        raise ChannelUnreadable(f"Slack {error}")
    raise TerminalApiError(f"Slack {response.request.url.path} failed: {error}")


async def call(client: ApiClient, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """One Web API method call (GET with query parameters)."""
    bucket = _METHOD_BUCKET.get(method, "tier3")
    body = await client.json("GET", f"/{method}", buckets=(bucket,), params=params)
    assert isinstance(body, dict)
    return body


async def paged(
    client: ApiClient, method: str, key: str, params: dict[str, Any]
) -> AsyncIterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Pages of `key` items, following `response_metadata.next_cursor` until it is empty."""
    cursor = ""
    while True:
        body = await call(client, method, {**params, "limit": PAGE_LIMIT, "cursor": cursor or None})
        items = body.get(key)
        if not isinstance(items, list):
            raise shape_error("Slack", method, f"no `{key}` list", body)
        yield items, body
        cursor = str((body.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return


def _message_doc(row: Row) -> TextDoc | None:
    if row.get("deleted"):
        return None
    ts = str(row["ts"])
    kind = "reply" if row.get("thread_ts") not in (None, ts) else "message"
    url = f"https://slack.com/archives/{row['channel_id']}/p{ts.replace('.', '')}"
    return TextDoc(
        id=f"slack:{row['channel_id']}:{ts}", source="slack", kind=kind,
        author=str(row.get("user_id") or ""), ts=int(float(ts)), url=url,
        text=str(row.get("text") or ""),
    )


USERS = Table("slack.users", ("id",), ("id", "name", "real_name", "email", "is_bot", "deleted"))
CHANNELS = Table(
    "slack.channels", ("id",),
    ("id", "name", "is_private", "is_archived", "created_at", "is_member"),
)
MESSAGES = Table(
    "slack.messages", ("channel_id", "ts"),
    ("channel_id", "ts", "user_id", "text", "thread_ts", "reply_count", "posted_at",
     "latest_reply", "deleted", "deleted_at"),
    text=_message_doc,
)


def _user_row(member: dict[str, Any]) -> Row:
    profile = member.get("profile") or {}
    return {
        "id": member["id"], "name": member.get("name"),
        "real_name": member.get("real_name") or profile.get("real_name"),
        "email": profile.get("email"), "is_bot": bool(member.get("is_bot")),
        "deleted": bool(member.get("deleted")),
    }


def _channel_row(channel: dict[str, Any]) -> Row:
    return {
        "id": channel["id"], "name": channel.get("name"),
        "is_private": bool(channel.get("is_private")),
        "is_archived": bool(channel.get("is_archived")),
        "created_at": from_epoch(channel.get("created")),
        "is_member": bool(channel.get("is_member", True)),
    }


def _message_row(channel_id: str, message: dict[str, Any]) -> Row:
    return {
        "channel_id": channel_id, "ts": str(message["ts"]),
        "user_id": message.get("user") or message.get("bot_id"),
        "text": message.get("text"), "thread_ts": message.get("thread_ts"),
        "reply_count": int(message.get("reply_count") or 0),
        "posted_at": from_epoch(message["ts"]),
        "latest_reply": message.get("latest_reply"), "deleted": False, "deleted_at": None,
    }


async def fetch_users(ctx: StreamContext) -> AsyncIterator[Page]:
    async for members, _ in paged(ctx.client, "users.list", "members", {}):
        yield Page(rows=[(USERS, [_user_row(m) for m in members])])


async def fetch_channels(ctx: StreamContext) -> AsyncIterator[Page]:
    params = {"types": "public_channel,private_channel", "exclude_archived": "false"}
    async for channels, _ in paged(ctx.client, "conversations.list", "channels", params):
        yield Page(rows=[(CHANNELS, [_channel_row(c) for c in channels])])


async def _stored_threads(ctx: StreamContext, channel: str, ts: list[str]) -> dict[str, str]:
    rows = await ctx.fetch_all(
        "SELECT ts, latest_reply FROM slack.messages WHERE channel_id = %s AND ts = ANY(%s)",
        (channel, ts),
    )
    return {str(t): str(latest) for t, latest in rows if latest is not None}


def _mark_deleted(channel: str, oldest: float, latest: float, seen: set[str],
                  threads: dict[str, set[str]]):  # type: ignore[no-untyped-def]
    """A finishing step: tombstone messages of the re-read window the API no longer has."""

    async def finish(conn: Conn) -> int:
        top = await conn.execute(
            "UPDATE slack.messages SET deleted = true, deleted_at = now()"
            " WHERE channel_id = %s AND NOT deleted AND ts::numeric > %s AND ts::numeric < %s"
            " AND (thread_ts IS NULL OR thread_ts = ts) AND NOT (ts = ANY(%s)) RETURNING ts",
            (channel, oldest, latest, list(seen)),
        )
        gone = [str(row[0]) for row in await top.fetchall()]
        count = len(gone)
        orphans = await conn.execute(
            "UPDATE slack.messages SET deleted = true, deleted_at = now()"
            " WHERE channel_id = %s AND NOT deleted AND thread_ts = ANY(%s) AND ts <> thread_ts",
            (channel, gone),
        )
        count += orphans.rowcount
        for parent, replies in threads.items():
            stale = await conn.execute(
                "UPDATE slack.messages SET deleted = true, deleted_at = now()"
                " WHERE channel_id = %s AND NOT deleted AND thread_ts = %s AND ts <> thread_ts"
                " AND NOT (ts = ANY(%s))",
                (channel, parent, list(replies)),
            )
            count += stale.rowcount
        return count

    return finish


def _window_start(ctx: StreamContext, bookmark: float | None) -> float:
    if ctx.since is not None:
        return from_day(ctx.since)
    if ctx.full or bookmark is None:
        return 0.0
    lookback = timedelta(days=ctx.settings.slack_lookback_days).total_seconds()
    return max(0.0, bookmark - lookback)


def from_day(day: Any) -> float:
    from datetime import UTC, datetime, time

    return datetime.combine(day, time(0), tzinfo=UTC).timestamp()


async def _thread_pages(
    ctx: StreamContext, channel: str, parent: Row, seen: set[str]
) -> AsyncIterator[list[Row]]:
    """Replies of one thread; the parent row rides with the last page."""
    params = {"channel": channel, "ts": parent["ts"]}
    pages: list[list[Row]] = []
    async for messages, _ in paged(ctx.client, "conversations.replies", "messages", params):
        rows = [_message_row(channel, m) for m in messages if str(m.get("ts")) != parent["ts"]]
        seen.update(row["ts"] for row in rows)
        pages.append(rows)
    for rows in pages[:-1]:
        yield rows
    yield (pages[-1] if pages else []) + [parent]


async def _channel_pages(
    ctx: StreamContext, channel: str, bookmark: float | None, run_start: float
) -> AsyncIterator[Page]:
    oldest = _window_start(ctx, bookmark)
    params = {"channel": channel, "oldest": f"{oldest:.6f}", "latest": f"{run_start:.6f}"}
    seen: set[str] = set()
    threads: list[Row] = []
    async for messages, _ in paged(ctx.client, "conversations.history", "messages", params):
        rows = [_message_row(channel, m) for m in messages]
        seen.update(row["ts"] for row in rows)
        stored = await _stored_threads(ctx, channel, [r["ts"] for r in rows if r["reply_count"]])
        changed = [r for r in rows if r["reply_count"] and stored.get(r["ts"]) != r["latest_reply"]]
        threads.extend(changed)
        keep = [r for r in rows if r not in changed]
        yield Page(rows=[(MESSAGES, keep)])
    replies: dict[str, set[str]] = {}
    for parent in threads:
        replies[parent["ts"]] = set()
        async for rows in _thread_pages(ctx, channel, parent, replies[parent["ts"]]):
            yield Page(rows=[(MESSAGES, rows)])
    finish = _mark_deleted(channel, oldest, run_start, seen, replies)
    yield Page(rows=[], finish=finish)


async def fetch_messages(ctx: StreamContext) -> AsyncIterator[Page]:
    state: dict[str, Any] = dict(ctx.state or {})
    bookmarks: dict[str, float] = dict(state.get("channels") or {})
    run_start = ctx.run_start.timestamp()
    channels = await ctx.fetch_all("SELECT id, name, is_member FROM slack.channels ORDER BY id")
    for channel, name, is_member in channels:
        if not is_member:
            ctx.notes.append(f"#{name} ({channel}): the bot is not a member; not read")
            continue
        try:
            async for page in _channel_pages(ctx, channel, bookmarks.get(channel), run_start):
                if page.finish is not None:
                    bookmarks[channel] = run_start
                    page.state = {**state, "channels": dict(bookmarks)}
                yield page
        except ChannelUnreadable as exc:
            ctx.notes.append(f"#{name} ({channel}): {exc.message}; not read")


class SlackConnector:
    """Slack Web API with a bot token."""

    name = "slack"
    token_variables = (TOKEN,)

    def streams(self) -> list[Stream]:
        return [
            Stream("users", USERS, None, fetch_users),
            Stream("channels", CHANNELS, None, fetch_channels),
            Stream("messages", MESSAGES, "ts", fetch_messages),
        ]

    def client(self, settings: Settings) -> ApiClient:
        token = settings.secret_value(TOKEN.lower())
        if token is None:
            raise TokenMissingError(f"{TOKEN} is not set", hint=f"Set {TOKEN} to a bot token.")
        limits = {}
        if settings.sync_rate_limits == "published":
            limits = {name: SlidingWindowLimiter(*spec) for name, spec in _BUCKETS.items()}
        return ApiClient(
            "Slack", settings.slack_api_base,
            headers={"Authorization": f"Bearer {token}"}, classify=_classify, limits=limits,
            timeout_s=settings.sync_http_timeout_s, max_attempts=settings.sync_max_attempts,
        )

    async def check(self, client: ApiClient) -> str:
        body = await call(client, "auth.test", {})
        return f"team {body.get('team', '?')} as {body.get('user', '?')}"


register(SlackConnector())
