"""Gong v2: users, calls (extensive, with participants) and transcripts.

Gong can only filter calls by start time, and calls and transcripts appear late, so every
run re-reads a look-back window (GONG_LOOKBACK_DAYS) and upserts; a call that window no
longer returns was deleted in Gong and is marked so. An empty window answers 404, which
means "no data" here.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors.registry import register
from sophia_cli.core.sync.errors import (
    SourceAuthError,
    TerminalApiError,
    TokenMissingError,
    excerpt,
)
from sophia_cli.core.sync.http import ApiClient, client_for, decode, transient_status
from sophia_cli.core.sync.limiter import SlidingWindowLimiter
from sophia_cli.core.sync.paging import CursorPaginator
from sophia_cli.core.sync.streams import (
    Conn,
    Finish,
    Page,
    Row,
    Stream,
    StreamContext,
    Table,
    TextDoc,
)
from sophia_cli.core.sync.values import iso, parse_int, parse_time

KEY, SECRET = "GONG_ACCESS_KEY", "GONG_ACCESS_KEY_SECRET"
EARLIEST = datetime(2010, 1, 1, tzinfo=UTC)
TRANSCRIPT_BATCH = 100
MISSING_TRANSCRIPT_DAYS = 30
WINDOW_MARGIN = timedelta(hours=12)


def _classify(response: httpx.Response) -> None:
    transient_status(response, "Gong")
    status, path = response.status_code, response.request.url.path
    if status == 200:
        return
    if status == 404 and path.endswith(("/v2/calls", "/extensive", "/transcript")):
        return  # "No calls found corresponding to the provided filters": zero rows
    message = excerpt(response.text)
    if status in (401, 403):
        raise SourceAuthError(
            f"Gong rejected {KEY} / {SECRET} ({status} on {path})",
            hint=f"Set {KEY} and {SECRET} to an API key pair from Gong → Company settings → API "
            "(scopes api:users:read, api:calls:read:extensive, api:calls:read:transcript).",
        )
    raise TerminalApiError(f"Gong {path} answered {status}: {message}")


async def paged(
    client: ApiClient, method: str, path: str, key: str, request: dict[str, Any]
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of `key`: the identical request again plus `records.cursor`, until absent."""

    async def send(cursor: str | None) -> Any:
        if method == "GET":
            response = await client.request("GET", path, params={**request, "cursor": cursor})
        else:
            body = {**request, "cursor": cursor} if cursor else request
            response = await client.request("POST", path, json=body)
        if response.status_code == 404:  # Gong's answer when no record matches
            return None
        return decode(response, "Gong")

    async for items, _ in CursorPaginator("Gong", key).pages(send, path):
        yield items


def _transcript_docs(
    call_id: str, call_started: datetime | None, monologues: list[dict[str, Any]]
) -> list[TextDoc]:
    """Search documents, one per monologue, stamped at call start plus the turn's offset."""
    call_epoch = int(call_started.timestamp()) if call_started is not None else 0
    docs = []
    for monologue in monologues:
        sentences = monologue.get("sentences") or []
        if not sentences:
            continue
        start = int(sentences[0].get("start") or 0)
        docs.append(
            TextDoc(
                id=f"gong:{call_id}:{start}",
                source="gong",
                kind="transcript",
                author=str(monologue.get("speakerId") or ""),
                ts=call_epoch + start // 1000,
                url=f"https://app.gong.io/call?id={call_id}",
                text=" ".join(str(s.get("text") or "") for s in sentences),
            )
        )
    return docs


USERS = Table("gong.users", ("id",), ("id", "email", "first_name", "last_name"))
CALLS = Table(
    "gong.calls",
    ("id",),
    (
        "id",
        "title",
        "started_at",
        "duration_seconds",
        "direction",
        "scope",
        "primary_user_id",
        "deleted",
        "deleted_at",
    ),
)
PARTICIPANTS = Table(
    "gong.call_participants",
    ("call_id", "party_id"),
    ("call_id", "party_id", "email", "name", "affiliation", "speaker_id"),
    scope="call_id",
)
TRANSCRIPTS = Table(
    "gong.transcripts",
    ("call_id", "speaker_id", "start_ms"),
    ("call_id", "speaker_id", "start_ms", "end_ms", "text"),
    scope="call_id",
)


def call_row(call: dict[str, Any]) -> Row:
    meta = call.get("metaData") or call
    return {
        "id": str(meta["id"]),
        "title": meta.get("title"),
        "started_at": parse_time(meta.get("started") or meta.get("scheduled")),
        "duration_seconds": parse_int(meta.get("duration")),
        "direction": meta.get("direction"),
        "scope": meta.get("scope"),
        "primary_user_id": meta.get("primaryUserId"),
        "deleted": False,  # listed again: not deleted (any more)
        "deleted_at": None,
    }


def participant_rows(call: dict[str, Any]) -> list[Row]:
    call_id = str((call.get("metaData") or {})["id"])
    return [
        {
            "call_id": call_id,
            "party_id": party.get("id"),
            "email": party.get("emailAddress"),
            "name": party.get("name"),
            "affiliation": party.get("affiliation"),
            "speaker_id": party.get("speakerId"),
        }
        for party in call.get("parties") or []
    ]


def transcript_rows(item: dict[str, Any]) -> list[Row]:
    call_id = str(item["callId"])
    return [
        {
            "call_id": call_id,
            "speaker_id": monologue.get("speakerId"),
            "start_ms": int(sentence["start"]),
            "end_ms": parse_int(sentence.get("end")),
            "text": sentence.get("text"),
        }
        for monologue in item.get("transcript") or []
        for sentence in monologue.get("sentences") or []
    ]


def _window_start(ctx: StreamContext) -> datetime:
    if ctx.since is not None:
        return datetime.combine(ctx.since, time(0), tzinfo=UTC)
    through = parse_time((ctx.state or {}).get("through"))
    if ctx.full or through is None:
        return EARLIEST
    return through - timedelta(days=ctx.settings.gong_lookback_days)


async def fetch_users(ctx: StreamContext) -> AsyncIterator[Page]:
    async for users in paged(ctx.client, "GET", "/v2/users", "users", {}):
        rows = [
            {
                "id": str(u["id"]),
                "email": u.get("emailAddress"),
                "first_name": u.get("firstName"),
                "last_name": u.get("lastName"),
            }
            for u in users
        ]
        yield Page(rows=[(USERS, rows)])


def _mark_deleted(low: datetime, high: datetime, listed: set[str]) -> Finish:
    """Calls started in [low, high) that the re-listed window did not return: deleted.

    Gong's window filters conferences on their scheduled time and everything else on the
    start, so only calls at least WINDOW_MARGIN inside the window are judged; a call near
    an edge is judged by a later run, whose window holds it well inside.
    """

    async def finish(conn: Conn) -> int:
        gone = await conn.execute(
            "UPDATE gong.calls SET deleted = true, deleted_at = now() WHERE NOT deleted"
            " AND started_at >= %s AND started_at < %s AND id <> ALL(%s) RETURNING id",
            (low, high, sorted(listed)),
        )
        ids = [str(row[0]) for row in await gone.fetchall()]
        if ids:  # a deleted call's people and words go with it
            await conn.execute("DELETE FROM gong.call_participants WHERE call_id = ANY(%s)", (ids,))
            await conn.execute("DELETE FROM gong.transcripts WHERE call_id = ANY(%s)", (ids,))
        return len(ids)

    return finish


async def fetch_calls(ctx: StreamContext) -> AsyncIterator[Page]:
    start = _window_start(ctx)
    request = {
        "filter": {"fromDateTime": iso(start), "toDateTime": iso(ctx.run_start)},
        "contentSelector": {"context": "None", "exposedFields": {"parties": True}},
    }
    listed: set[str] = set()
    async for calls in paged(ctx.client, "POST", "/v2/calls/extensive", "calls", request):
        participants = [row for call in calls for row in participant_rows(call)]
        rows = [call_row(c) for c in calls]
        listed.update(row["id"] for row in rows)
        yield Page(rows=[(CALLS, rows), (PARTICIPANTS, participants)])
    low = start + WINDOW_MARGIN if start > EARLIEST else start
    yield Page(
        rows=[],
        state={"through": iso(ctx.run_start)},
        finish=_mark_deleted(low, ctx.run_start - WINDOW_MARGIN, listed),
    )


async def _calls_to_read(ctx: StreamContext) -> dict[str, datetime | None]:
    """Calls (with start times) to read transcripts for.

    Those this run's calls stream listed (in memory), those of the look-back window in the
    warehouse, and recent ones still without a transcript.
    """
    start = _window_start(ctx)
    listed = {str(row["id"]): row["started_at"] for row in ctx.parents or []}
    missing_since = ctx.run_start - timedelta(days=MISSING_TRANSCRIPT_DAYS)
    rows = await ctx.fetch_all(
        "SELECT c.id, c.started_at FROM gong.calls c WHERE NOT c.deleted AND (c.started_at >= %s"
        " OR (c.started_at >= %s AND NOT EXISTS"
        "     (SELECT 1 FROM gong.transcripts t WHERE t.call_id = c.id)))"
        " ORDER BY c.id",
        (start, min(start, missing_since)),
    )
    stored = {str(row[0]): row[1] for row in rows}
    return dict(sorted({**stored, **listed}.items()))


async def fetch_transcripts(ctx: StreamContext) -> AsyncIterator[Page]:
    started = await _calls_to_read(ctx)
    ids = list(started)
    for first in range(0, len(ids), TRANSCRIPT_BATCH):
        request = {"filter": {"callIds": ids[first : first + TRANSCRIPT_BATCH]}}
        async for items in paged(
            ctx.client, "POST", "/v2/calls/transcript", "callTranscripts", request
        ):
            rows = [row for item in items for row in transcript_rows(item)]
            docs = [
                doc
                for item in items
                for doc in _transcript_docs(
                    str(item["callId"]), started.get(str(item["callId"])), item["transcript"]
                )
            ]
            yield Page(rows=[(TRANSCRIPTS, rows)], docs=docs)
    yield Page(rows=[], state={"through": iso(ctx.run_start)})


class GongConnector:
    """Gong API v2 with an access key pair (Basic auth)."""

    name = "gong"
    token_variables: tuple[str, ...] = (KEY, SECRET)

    def streams(self) -> list[Stream]:
        return [
            Stream("users", USERS, None, fetch_users),
            Stream("calls", CALLS, "started", fetch_calls),
            Stream("transcripts", TRANSCRIPTS, "started", fetch_transcripts),
        ]

    def client(self, settings: Settings) -> ApiClient:
        key, secret = settings.secret_value(KEY.lower()), settings.secret_value(SECRET.lower())
        if key is None or secret is None:
            raise TokenMissingError(f"{KEY} / {SECRET} not set", hint=f"Set {KEY} and {SECRET}.")
        basic = base64.b64encode(f"{key}:{secret}".encode()).decode()
        return client_for(
            settings,
            "Gong",
            settings.gong_api_base,
            headers={"Authorization": f"Basic {basic}"},
            classify=_classify,
            published_limits={"default": SlidingWindowLimiter(3, 1.0)},
        )

    async def check(self, client: ApiClient) -> str:
        data = decode(await client.request("GET", "/v2/users"), "Gong")
        return f"{(data.get('records') or {}).get('totalRecords', '?')} user(s)"


register(GongConnector())
