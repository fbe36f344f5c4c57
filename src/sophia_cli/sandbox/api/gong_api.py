"""Fake Gong API v2: users, calls, calls/extensive and calls/transcript.

Lists come as `{requestId, records{totalRecords, currentPageSize, currentPageNumber, cursor?},
<list>}`; the cursor belongs to one exact request; an empty window is a 404, not an empty 200.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sophia_cli.sandbox.clock import parse_iso
from sophia_cli.sandbox.dataset import Record
from sophia_cli.sandbox.expected import transcript_ready, visible_calls
from sophia_cli.sandbox.state import Sandbox

NO_CALLS = "No calls found corresponding to the provided filters"
EXTRA = {"note": "an undocumented field: clients must ignore what they do not know"}


class GongError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def request_id(sb: Sandbox) -> str:
    """A fresh Gong-looking requestId."""
    return hashlib.sha1(f"gong-{sb.next_serial()}".encode()).hexdigest()[:17]


def error_response(status: int, message: str, rid: str = "4al018gzaztcr8nbukw") -> JSONResponse:
    """Gong's error body: a requestId and a list of strings."""
    return JSONResponse({"requestId": rid, "errors": [message]}, status_code=status)


def fault_response(kind: str, retry_after: int) -> Response:
    """What Gong answers for a scripted fault of `kind`."""
    if kind == "429":
        return error_response(429, "API request rate limit exceeded. Please retry later.")
    if kind in ("500", "502", "503"):
        return error_response(int(kind), "Unexpected error")
    if kind == "401":
        return error_response(401, "Access denied")
    if kind == "expired_offset":
        return error_response(400, "cursor: Invalid cursor")
    return JSONResponse({"requestId": "unexpected", "records": {}, "unexpected": True})


def _signature(request: Request, body: Record | None) -> str:
    """What must stay identical between pages: the request without its cursor."""
    if body is None:
        rest = sorted((k, v) for k, v in request.query_params.items() if k != "cursor")
    else:
        rest = sorted((k, json.dumps(v, sort_keys=True)) for k, v in body.items() if k != "cursor")
    return hashlib.sha1(f"{request.url.path}|{rest}".encode()).hexdigest()


def paged(
    sb: Sandbox, request: Request, body: Record | None, key: str, items: list[Record]
) -> JSONResponse:
    """One page of `items` with Gong's records block; the cursor only while more remain."""
    signature = _signature(request, body)
    raw = (body or {}).get("cursor") if body is not None else request.query_params.get("cursor")
    page_no = 0
    if raw:
        try:
            state = json.loads(base64.b64decode(str(raw), validate=True))
            page_no = int(state["page"])
            same = state["sig"] == signature
        except (binascii.Error, ValueError, KeyError, TypeError) as exc:
            raise GongError(400, "cursor: Invalid cursor") from exc
        if not same:
            raise GongError(
                400,
                "cursor: The request changed since the cursor was issued; "
                "repeat the identical request with the cursor",
            )
    size = sb.gong_page_size
    page = items[page_no * size : (page_no + 1) * size]
    records: Record = {
        "totalRecords": len(items),
        "currentPageSize": len(page),
        "currentPageNumber": page_no,
    }
    if (page_no + 1) * size < len(items):
        records["cursor"] = base64.b64encode(
            json.dumps({"sig": signature, "page": page_no + 1}).encode()
        ).decode()
    return JSONResponse(
        {"requestId": request_id(sb), "records": records, key: page, "sandboxExtra": EXTRA}
    )


def _bound(raw: Any, name: str) -> datetime | None:
    """A window bound, or 400 when it does not parse."""
    if raw in (None, ""):
        return None
    try:
        return parse_iso(str(raw))
    except ValueError as exc:
        raise GongError(400, f"{name}: Invalid date format: {raw}") from exc


def window_time(meta: Record) -> datetime:
    """What Gong's date window filters on: the scheduled time of a web conference it
    recorded, the actual start of anything else."""
    if meta["direction"] == "Conference" and meta.get("scheduled"):
        return parse_iso(meta["scheduled"])
    return parse_iso(meta["started"])


def _calls_in(sb: Sandbox, flt: Record) -> list[Record]:
    """Visible calls with from <= started < to, optionally limited to ids and users."""
    low, high = (
        _bound(flt.get("fromDateTime"), "fromDateTime"),
        _bound(flt.get("toDateTime"), "toDateTime"),
    )
    ids, users = flt.get("callIds"), flt.get("primaryUserIds")
    workspace = flt.get("workspaceId")
    if workspace not in (None, "") and str(workspace) != sb.data.gong.workspace_id:
        raise GongError(404, NO_CALLS)
    if ids is not None and (not isinstance(ids, list) or not ids):
        raise GongError(400, "filter.callIds: must not be empty but can be null or can be omitted")
    wanted = {str(i) for i in ids} if ids is not None else None
    chosen = []
    for call in visible_calls(sb.data):
        meta = call["metaData"]
        moment = window_time(meta)
        if (low and moment < low) or (high and moment >= high):
            continue
        if wanted is not None and meta["id"] not in wanted:
            continue
        if users and meta["primaryUserId"] not in {str(u) for u in users}:
            continue
        chosen.append(call)
    chosen.sort(key=lambda c: (c["metaData"]["started"], c["metaData"]["id"]))
    if not chosen:
        raise GongError(404, NO_CALLS)
    return chosen


def list_users(sb: Sandbox, request: Request) -> Response:
    """GET /v2/users."""
    users = sorted(sb.data.gong.users.values(), key=lambda u: int(u["id"]))
    return paged(sb, request, None, "users", users)


def list_calls(sb: Sandbox, request: Request) -> Response:
    """GET /v2/calls in the date window."""
    calls = _calls_in(sb, dict(request.query_params))
    return paged(sb, request, None, "calls", [c["metaData"] for c in calls])


def _extensive(call: Record, selector: Record) -> Record:
    """A CallData with only the sections the selector asked for."""
    fields = selector.get("exposedFields") or {}
    out: Record = {"metaData": call["metaData"]}
    if selector.get("context") in ("Basic", "Extended"):
        out["context"] = [
            {
                "system": "HubSpot",
                "objects": [
                    {
                        "objectType": "Account",
                        "objectId": call["_company"],
                        "fields": [],
                        "timing": "Now",
                    }
                ],
            }
        ]
    if fields.get("parties"):
        out["parties"] = call["parties"]
    if any((fields.get("content") or {}).values()):
        out["content"] = call["content"]
    if any((fields.get("interaction") or {}).values()):
        out["interaction"] = call["interaction"]
    if any((fields.get("collaboration") or {}).values()):
        out["collaboration"] = {"publicComments": []}
    if fields.get("media"):
        call_id = call["metaData"]["id"]
        out["media"] = {
            "audioUrl": f"https://media.gong.io/{call_id}.mp3",
            "videoUrl": f"https://media.gong.io/{call_id}.mp4",
        }
    return out


def calls_extensive(sb: Sandbox, request: Request, body: Record) -> Response:
    """POST /v2/calls/extensive."""
    flt = body.get("filter")
    if not isinstance(flt, dict):
        raise GongError(400, "filter: must not be null")
    selector = body.get("contentSelector") or {}
    calls = _calls_in(sb, flt)
    return paged(sb, request, body, "calls", [_extensive(c, selector) for c in calls])


def calls_transcript(sb: Sandbox, request: Request, body: Record) -> Response:
    """POST /v2/calls/transcript: ready transcripts of the filtered calls."""
    flt = body.get("filter") or {}
    if not isinstance(flt, dict):
        raise GongError(400, "filter: must be an object")
    calls = [c for c in _calls_in(sb, flt) if transcript_ready(sb.data, c["metaData"]["id"])]
    if not calls:
        raise GongError(404, NO_CALLS)
    transcripts = [
        {"callId": c["metaData"]["id"], "transcript": sb.data.gong.transcripts[c["metaData"]["id"]]}
        for c in calls
    ]
    return paged(sb, request, body, "callTranscripts", transcripts)


def routes(sb: Sandbox) -> list[Route]:
    """Routes behind Basic auth: 401 on the calls endpoints, 403 on users (as the spec lists)."""
    expected = (
        "Basic "
        + base64.b64encode(f"{sb.tokens.gong_key}:{sb.tokens.gong_secret}".encode()).decode()
    )

    def wrap(handler: Callable[..., Response], *, is_post: bool, denied: int) -> Any:
        async def serve(request: Request) -> Response:
            if request.headers.get("authorization", "") != expected:
                return error_response(denied, "Access denied")
            try:
                if not is_post:
                    with sb.lock:
                        return handler(sb, request)
                body = json.loads(await request.body() or b"{}")
                if not isinstance(body, dict):
                    raise GongError(400, "The body must be a JSON object")
                with sb.lock:
                    return handler(sb, request, body)
            except json.JSONDecodeError:
                return error_response(400, "Malformed JSON body")
            except GongError as exc:
                return error_response(exc.status, exc.message, request_id(sb))

        return serve

    return [
        Route("/v2/users", wrap(list_users, is_post=False, denied=403), methods=["GET"]),
        Route("/v2/calls", wrap(list_calls, is_post=False, denied=401), methods=["GET"]),
        Route(
            "/v2/calls/extensive", wrap(calls_extensive, is_post=True, denied=401), methods=["POST"]
        ),
        Route(
            "/v2/calls/transcript",
            wrap(calls_transcript, is_post=True, denied=401),
            methods=["POST"],
        ),
    ]
