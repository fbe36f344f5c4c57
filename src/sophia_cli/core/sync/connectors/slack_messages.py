"""Slack messages: per channel, new messages only, plus a less frequent look-back sweep.

A run reads each channel's history after its bookmark (`oldest` = bookmark), newest first,
and commits the bookmark with every page: the state names the part of the window still to
read, so a killed or time-boxed run resumes mid-channel instead of restarting it. Under the
limited regime (1 request a minute) a channel's backfill can take hours, so this matters.

A parent whose thread changed (`reply_count` or `latest_reply` differ from the warehouse)
has its replies read before the history page that lists it is committed, and is stored with
its last replies page: a crash in between leaves the stored parent stale, so the thread is
read again.

The sweep (every SLACK_SWEEP_HOURS, or `sophia sync slack --sweep`) re-reads the last
SLACK_LOOKBACK_DAYS: edits, deleted messages, deleted thread parents (Slack leaves a
`tombstone` while replies remain), late replies in old threads, and every thread active in
the window, because editing or deleting a reply need not move its parent. Each history page
is a complete range of `ts`, so what the warehouse holds in that range and the page lacks
was deleted: tombstoned page by page, which keeps the sweep resumable too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sophia_cli.core.sync.connectors.slack_api import ChannelUnreadable, SlackClient, paged
from sophia_cli.core.sync.paging import SlackCursorPaginator
from sophia_cli.core.sync.streams import Conn, Finish, Page, Row, StreamContext, Table, TextDoc
from sophia_cli.core.sync.values import from_epoch

TOMBSTONE = "tombstone"


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


@dataclass
class Stored:
    """What the warehouse holds of one message: its thread summary and tombstone."""

    reply_count: int
    latest_reply: str | None
    deleted_at: datetime | None


@dataclass
class Pass:
    """One read of a channel's history in (oldest, target), newest first.

    `low` is the oldest ts committed so far: what remains to read is (oldest, low).
    A sweep re-reads every thread active in the window; `full` re-reads every thread.
    """

    oldest: str
    target: str
    low: str
    sweep: bool = False
    full: bool = False


@dataclass
class ChannelState:
    """A channel's bookmark: read up to `done`, swept up to `swept`, and passes under way.

    `reading` is the pass over new messages, `sweeping` the look-back sweep; each resumes
    where it stopped, and neither holds the other back.
    """

    done: str | None = None
    swept: str | None = None
    reading: Pass | None = None
    sweeping: Pass | None = None

    @classmethod
    def load(cls, raw: Any) -> ChannelState:
        if isinstance(raw, int | float):  # bookmarks of the previous version: an epoch
            return cls(done=stamp(float(raw)), swept=stamp(float(raw)))
        if not isinstance(raw, dict):
            return cls()
        passes = {
            name: Pass(**raw[name]) if isinstance(raw.get(name), dict) else None
            for name in ("reading", "sweeping")
        }
        return cls(done=raw.get("done"), swept=raw.get("swept"), **passes)

    def dump(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "swept": self.swept,
            "reading": asdict(self.reading) if self.reading else None,
            "sweeping": asdict(self.sweeping) if self.sweeping else None,
        }

    def under_way(self, sweep: bool) -> Pass | None:
        return self.sweeping if sweep else self.reading

    def set(self, sweep: bool, current: Pass | None) -> None:
        if sweep:
            self.sweeping = current
        else:
            self.reading = current


def stamp(epoch: float) -> str:
    """An epoch as a Slack `ts` bound (six decimals)."""
    return f"{epoch:.6f}"


def from_day(day: date) -> float:
    return datetime.combine(day, time(0), tzinfo=UTC).timestamp()


def _message_row(channel_id: str, message: dict[str, Any], stored: Stored | None) -> Row:
    ts = str(message["ts"])
    gone = message.get("subtype") == TOMBSTONE
    # A tombstone keeps the moment we first saw it, so sweeps do not rewrite it.
    deleted_at = (stored.deleted_at if stored else None) or (datetime.now(UTC) if gone else None)
    return {
        "channel_id": channel_id,
        "ts": ts,
        "user_id": message.get("user") or message.get("bot_id"),
        "text": message.get("text"),
        "thread_ts": message.get("thread_ts"),
        "reply_count": int(message.get("reply_count") or 0),
        "posted_at": from_epoch(ts),
        "latest_reply": message.get("latest_reply"),
        "deleted": gone,
        "deleted_at": deleted_at if gone else None,
    }


async def _stored(ctx: StreamContext, channel: str, ts: list[str]) -> dict[str, Stored]:
    rows = await ctx.fetch_all(
        "SELECT ts, reply_count, latest_reply, deleted_at FROM slack.messages"
        " WHERE channel_id = %s AND ts = ANY(%s)",
        (channel, ts),
    )
    return {
        str(t): Stored(int(count or 0), str(latest) if latest else None, gone_at)
        for t, count, latest, gone_at in rows
    }


def _thread_changed(row: Row, stored: Stored | None, current: Pass) -> bool:
    """Whether this parent's replies must be (re-)read in this pass."""
    had = stored.reply_count if stored else 0
    if not (row["reply_count"] or had):
        return False
    if current.full:
        return True
    if stored is None or (stored.reply_count, stored.latest_reply) != (
        row["reply_count"],
        row["latest_reply"],
    ):
        return True
    # Editing or deleting a reply does not move the parent: the sweep re-reads every thread
    # with activity inside its window.
    latest = row["latest_reply"]
    return current.sweep and latest is not None and float(latest) > float(current.oldest)


def _tombstone_range(
    channel: str, lower: str, inclusive: bool, upper: str, seen: list[str]
) -> Finish:
    """Mark parents in this ts range that the page lacks as deleted, and their replies."""
    low_op = ">=" if inclusive else ">"

    async def finish(conn: Conn) -> int:
        top = await conn.execute(
            "UPDATE slack.messages SET deleted = true, deleted_at = now()"
            f" WHERE channel_id = %s AND NOT deleted AND ts::numeric {low_op} %s::numeric"
            " AND ts::numeric < %s::numeric AND (thread_ts IS NULL OR thread_ts = ts)"
            " AND NOT (ts = ANY(%s)) RETURNING ts",
            (channel, lower, upper, seen),
        )
        gone = [str(row[0]) for row in await top.fetchall()]
        if not gone:
            return 0
        orphans = await conn.execute(
            "UPDATE slack.messages SET deleted = true, deleted_at = now()"
            " WHERE channel_id = %s AND NOT deleted AND thread_ts = ANY(%s) AND ts <> thread_ts",
            (channel, gone),
        )
        return len(gone) + orphans.rowcount

    return finish


def _prune_replies(channel: str, parent: str, seen: list[str]) -> Finish:
    """Mark replies of a fully re-read thread that Slack no longer returns as deleted."""

    async def finish(conn: Conn) -> int:
        stale = await conn.execute(
            "UPDATE slack.messages SET deleted = true, deleted_at = now()"
            " WHERE channel_id = %s AND NOT deleted AND thread_ts = %s AND ts <> thread_ts"
            " AND NOT (ts = ANY(%s))",
            (channel, parent, seen),
        )
        return stale.rowcount

    return finish


async def _thread_pages(
    ctx: StreamContext, client: SlackClient, channel: str, parent: Row
) -> AsyncIterator[Page]:
    """Replies of one thread; the parent row rides with the last page."""
    params = {"channel": channel, "ts": parent["ts"]}
    seen: list[str] = []
    waiting: list[Row] | None = None
    limit = client.regime.page_limit
    async for messages, _ in paged(
        client.api, "conversations.replies", "messages", params, limit=limit
    ):
        replies = [m for m in messages if str(m.get("ts")) != parent["ts"]]
        stored = await _stored(ctx, channel, [str(m["ts"]) for m in replies])
        rows = [_message_row(channel, m, stored.get(str(m["ts"]))) for m in replies]
        seen.extend(row["ts"] for row in rows)
        if waiting is not None:
            yield Page(rows=[(MESSAGES, waiting)])
        waiting = rows
    finish = _prune_replies(channel, parent["ts"], seen)
    if not parent["deleted"]:
        yield Page(rows=[(MESSAGES, (waiting or []) + [parent])], finish=finish)
        return
    # A deleted parent's tombstone is stored after its replies, counted as a deletion.
    yield Page(rows=[(MESSAGES, waiting or [])], finish=finish)
    yield Page(rows=[(MESSAGES, [parent])], deletes=True)


@dataclass
class ChannelRun:
    """One channel's work in one phase of this run, and how far it got (for the estimate)."""

    channel: str
    created: float
    state: ChannelState
    sweep: bool

    @property
    def current(self) -> Pass | None:
        return self.state.under_way(self.sweep)

    def fraction(self) -> float:
        """The share of the current pass's ts range already read (1.0 with none)."""
        current = self.current
        if current is None:
            return 1.0
        start = max(float(current.oldest), self.created)
        span = float(current.target) - start
        if span <= 0:
            return 1.0
        return min(1.0, max(0.0, (float(current.target) - float(current.low)) / span))


async def _read_pass(
    ctx: StreamContext, client: SlackClient, run: ChannelRun
) -> AsyncIterator[tuple[Page, bool]]:
    """Pages of the channel's current pass; the flag is True on a page that moved the bookmark."""
    current = run.current
    assert current is not None
    params = {"channel": run.channel, "oldest": current.oldest, "latest": current.low}
    limit = client.regime.page_limit
    upper = current.low
    async for messages, body in paged(
        client.api, "conversations.history", "messages", params, limit=limit
    ):
        ts_list = [str(m["ts"]) for m in messages]
        stored = await _stored(ctx, run.channel, ts_list)
        rows = [_message_row(run.channel, m, stored.get(str(m["ts"]))) for m in messages]
        threads = [r for r in rows if _thread_changed(r, stored.get(r["ts"]), current)]
        for parent in threads:
            async for page in _thread_pages(ctx, client, run.channel, parent):
                yield page, False
        last = SlackCursorPaginator.next_token(body) is None
        lowest = min(ts_list, key=float) if ts_list else current.oldest
        lower, inclusive = (current.oldest, False) if last else (lowest, True)
        finish = _tombstone_range(run.channel, lower, inclusive, upper, ts_list)
        upper = lowest
        current.low = current.oldest if last else lowest
        keep = [r for r in rows if r not in threads]
        gone = [r for r in keep if r["deleted"]]
        if gone:
            yield Page(rows=[(MESSAGES, gone)], deletes=True), False
        live = [r for r in keep if not r["deleted"]]
        yield Page(rows=[(MESSAGES, live)], finish=finish), True


def _sweep_due(ctx: StreamContext, state: ChannelState, now: float) -> bool:
    if ctx.sweep or ctx.since is not None or state.swept is None:
        return True
    return now - float(state.swept) >= ctx.settings.slack_sweep_hours * 3600


def _next_pass(ctx: StreamContext, state: ChannelState, now: float, sweep: bool) -> Pass | None:
    """The next pass of this phase on this channel (new messages, or the sweep), if any."""
    target = stamp(now)
    if not sweep:
        if state.done is None:
            oldest = stamp(from_day(ctx.since)) if ctx.since else stamp(0.0)
            return Pass(oldest, target, target, full=ctx.full)
        return Pass(state.done, target, target) if float(state.done) < now else None
    if state.done is None or not _sweep_due(ctx, state, now):
        return None
    if state.swept is not None and float(state.swept) >= now:
        return None  # this run's first read of the channel was as good as a sweep
    back = timedelta(days=ctx.settings.slack_lookback_days).total_seconds()
    since = from_day(ctx.since) if ctx.since else now - back
    return Pass(stamp(max(0.0, since)), state.done, state.done, sweep=True)


def _complete(state: ChannelState, current: Pass) -> None:
    """Move the bookmarks past a finished pass (a read from the start counts as a sweep)."""
    state.set(current.sweep, None)
    if not current.sweep:
        state.done = max(state.done or current.target, current.target, key=float)
    if current.sweep or float(current.oldest) == 0:
        state.swept = current.target


async def _channel_pages(
    ctx: StreamContext, client: SlackClient, run: ChannelRun, now: float
) -> AsyncIterator[tuple[Page, bool]]:
    """This phase's work on one channel: the pass under way, else the phase's next pass."""
    current = run.current or _next_pass(ctx, run.state, now, run.sweep)
    if current is None:
        return
    run.state.set(run.sweep, current)
    async for page, moved in _read_pass(ctx, client, run):
        if moved and current.low == current.oldest:
            _complete(run.state, current)
        yield page, moved
    if run.current is current:  # defensive: a pass always ends on its last page
        _complete(run.state, current)


def _stalest_first(
    channels: list[tuple[Any, ...]], states: dict[str, ChannelState], sweep: bool
) -> list[tuple[Any, ...]]:
    """Passes under way first, then the channels read (or swept) longest ago.

    A run that stops at --max-duration then starts where the last one stopped: in id order,
    the first channels would be re-checked every run and the last ones never reached.
    """

    def key(channel: tuple[Any, ...]) -> tuple[int, float]:
        state = states[channel[0]]
        mark = state.swept if sweep else state.done
        return (0 if state.under_way(sweep) else 1, float(mark or 0))

    return sorted(channels, key=key)


async def _channels(ctx: StreamContext) -> list[tuple[Any, ...]]:
    """This run's channels (from the channels stream), else the warehouse's.

    Reading this run's rows keeps a dry run on a fresh warehouse counting what a real run
    would load; the warehouse is the fallback when the channels stream did not finish."""
    if ctx.parents is not None:
        rows = sorted(ctx.parents, key=lambda row: str(row["id"]))
        return [(row["id"], row["name"], row["is_member"], row["created_at"]) for row in rows]
    return await ctx.fetch_all(
        "SELECT id, name, is_member, created_at FROM slack.channels ORDER BY id"
    )


async def fetch_messages(ctx: StreamContext) -> AsyncIterator[Page]:
    """New messages of every channel first, then the sweeps that are due.

    In that order, a long backfill or sweep never holds back new messages of other
    channels, and a time-boxed run spends its time on what is freshest.
    """
    client: SlackClient = ctx.client
    saved = dict((ctx.state or {}).get("channels") or {})
    states = {cid: ChannelState.load(raw) for cid, raw in saved.items()}
    now = ctx.run_start.timestamp()
    channels = await _channels(ctx)
    readable = [c for c in channels if c[2]]
    for channel, name, is_member, _ in channels:
        if not is_member:
            ctx.notes.append(f"#{name} ({channel}): the bot is not a member; not read")
    for channel, *_ in readable:
        states.setdefault(channel, ChannelState())
    steps = [(sweep, c) for sweep in (False, True) for c in _stalest_first(readable, states, sweep)]
    unreadable: set[str] = set()
    for position, (sweep, (channel, name, _, created_at)) in enumerate(steps):
        if channel in unreadable:
            continue
        state = states.setdefault(channel, ChannelState())
        created = created_at.timestamp() if created_at else 0.0
        run = ChannelRun(channel, created, state, sweep)
        try:
            async for page, moved in _channel_pages(ctx, client, run, now):
                if moved:
                    page.state = {"channels": {cid: s.dump() for cid, s in states.items()}}
                page.progress = (position + run.fraction()) / len(steps)
                yield page
        except ChannelUnreadable as exc:
            state.set(sweep, None)
            unreadable.add(channel)
            ctx.notes.append(f"#{name} ({channel}): {exc.message}; not read")
    note = client.regime.note()
    if note and note not in ctx.notes:
        ctx.notes.append(note)
