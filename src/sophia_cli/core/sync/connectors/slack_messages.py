"""Slack messages: per channel on `ts`, with a look-back window and thread replies.

Every run re-reads SLACK_LOOKBACK_DAYS of history per channel, because replies and edits
arrive after their parent. A parent whose thread changed (`latest_reply` differs from the
warehouse) is stored together with its replies, so a crash between the two cannot make the
next run believe the thread is up to date. Messages gone from the re-read window are marked
deleted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sophia_cli.core.sync.connectors.slack_api import ChannelUnreadable, paged
from sophia_cli.core.sync.streams import Conn, Finish, Page, Row, StreamContext, Table, TextDoc
from sophia_cli.core.sync.values import from_epoch


def _message_doc(row: Row) -> TextDoc | None:
    if row.get("deleted"):
        return None
    ts = str(row["ts"])
    kind = "reply" if row.get("thread_ts") not in (None, ts) else "message"
    url = f"https://slack.com/archives/{row['channel_id']}/p{ts.replace('.', '')}"
    return TextDoc(
        id=f"slack:{row['channel_id']}:{ts}",
        source="slack",
        kind=kind,
        author=str(row.get("user_id") or ""),
        ts=int(float(ts)),
        url=url,
        text=str(row.get("text") or ""),
    )


MESSAGES = Table(
    "slack.messages",
    ("channel_id", "ts"),
    (
        "channel_id",
        "ts",
        "user_id",
        "text",
        "thread_ts",
        "reply_count",
        "posted_at",
        "latest_reply",
        "deleted",
        "deleted_at",
    ),
    text=_message_doc,
)


def _message_row(channel_id: str, message: dict[str, Any]) -> Row:
    return {
        "channel_id": channel_id,
        "ts": str(message["ts"]),
        "user_id": message.get("user") or message.get("bot_id"),
        "text": message.get("text"),
        "thread_ts": message.get("thread_ts"),
        "reply_count": int(message.get("reply_count") or 0),
        "posted_at": from_epoch(message["ts"]),
        "latest_reply": message.get("latest_reply"),
        "deleted": False,
        "deleted_at": None,
    }


async def _stored_threads(ctx: StreamContext, channel: str, ts: list[str]) -> dict[str, str]:
    rows = await ctx.fetch_all(
        "SELECT ts, latest_reply FROM slack.messages WHERE channel_id = %s AND ts = ANY(%s)",
        (channel, ts),
    )
    return {str(t): str(latest) for t, latest in rows if latest is not None}


def _mark_deleted(
    channel: str, oldest: float, latest: float, seen: set[str], threads: dict[str, set[str]]
) -> Finish:
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


def from_day(day: date) -> float:
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
        changed = [
            r
            for r in rows
            if r["reply_count"] and (ctx.full or stored.get(r["ts"]) != r["latest_reply"])
        ]
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
