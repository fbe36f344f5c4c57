"""Run one source: take its lease, then load each stream page by page.

Every page is one transaction: COPY into staging, upsert, optional finishing step (marking
deletions), text indexing (idempotent, so done before the commit), the lease fence and the
new bookmark.
A crash between pages leaves the last committed bookmark, and the next run re-reads from
there; upserts make the overlap harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
from psycopg import AsyncConnection

from sophia_cli.core import errortracking
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync import lease as sync_lease
from sophia_cli.core.sync import state as sync_state
from sophia_cli.core.sync.errors import SourceAuthError, SourceScopeError
from sophia_cli.core.sync.index import TextIndex
from sophia_cli.core.sync.load import LoadCounts, load
from sophia_cli.core.sync.models import RunStatus, SourceResult, StreamResult, TableCounts
from sophia_cli.core.sync.sources import declared
from sophia_cli.core.sync.streams import (
    Conn,
    Connector,
    Page,
    Row,
    Stream,
    StreamContext,
    TextDoc,
)
from sophia_cli.store import postgres

Progress = Callable[[StreamResult], None]


@dataclass(frozen=True)
class RunOptions:
    """What one `sophia sync` invocation asked for, shared by its sources."""

    run_id: str
    run_start: datetime
    full: bool = False
    since: date | None = None
    dry_run: bool = False
    wait: bool = False
    sweep: bool = False
    # time.monotonic() after which no new page is fetched (`--max-duration`); None: no limit.
    deadline: float | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


def _message(exc: BaseException) -> str:
    if isinstance(exc, SophiaError):
        return exc.message
    return f"{type(exc).__name__}: {exc}".strip()


def parent_streams(connector: Connector) -> set[str]:
    """Streams of `connector` whose rows a later stream of the same source reads."""
    decl = declared(connector.name)
    if decl is None:  # a connector registered without a declaration (tests' fakes)
        return set()
    return {s.parent for s in decl.streams if s.parent is not None}


def parent_of(connector: Connector, stream: Stream) -> str | None:
    decl = declared(connector.name)
    names = {s.name for s in decl.streams} if decl is not None else set()
    return decl.stream(stream.name).parent if decl is not None and stream.name in names else None


def _count(target: StreamResult | TableCounts, counts: LoadCounts, deletes: bool) -> None:
    """Add what one load changed; rows of a `deletes` page count as deletions."""
    if deletes:
        target.deleted += counts.inserted + counts.updated
    else:
        target.inserted += counts.inserted
        target.updated += counts.updated
    target.deleted += counts.deleted


async def _load_page(
    conn: Conn,
    page: Page,
    result: StreamResult,
    own: str,
    index: TextIndex | None,
    dry_run: bool,
    lease: sync_lease.Lease | None = None,
) -> None:
    """Write one page and its bookmark atomically (rolled back when dry_run)."""
    async with conn.transaction() as tx:
        docs: list[TextDoc] = list(page.docs)
        for table, rows in page.rows:
            counts = await load(conn, table, rows)
            if table.name == own:
                _count(result, counts, page.deletes)
            else:
                _count(result.tables.setdefault(table.name, TableCounts()), counts, page.deletes)
            if table.text is not None:
                docs.extend(doc for doc in map(table.text, rows) if doc is not None)
        if page.finish is not None:
            result.deleted += await page.finish(conn)
        if dry_run:
            raise psycopg.Rollback(tx)
        if index is not None and docs:
            result.indexed += await index.upsert(docs)
        if page.state is not None:
            await sync_state.write_state(conn, result.source, result.stream, page.state)
        if lease is not None:
            await sync_lease.fence(conn, lease)


def _estimate(result: StreamResult, done: float | None, elapsed_s: float) -> None:
    """Progress and the time left at the pace so far (an estimate: rates and data vary)."""
    if done is None:
        return
    result.progress = round(min(1.0, max(0.0, done)), 4)
    if 0 < done < 1:
        result.eta_s = round(elapsed_s * (1 - done) / done, 1)
    elif done >= 1:
        result.eta_s = 0.0


def _time_box_note(result: StreamResult) -> str:
    left = ""
    if result.progress is not None and result.eta_s is not None:
        left = f" ({result.progress:.0%} done; about {_duration(result.eta_s)} left at this pace)"
    return f"stopped at --max-duration after {result.pages} pages{left}; the next run resumes here"


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


async def run_stream(
    conn: Conn,
    connector: Connector,
    stream: Stream,
    client: object,
    settings: Settings,
    options: RunOptions,
    index: TextIndex | None,
    progress: Progress | None,
    parents: list[Row] | None = None,
    keep: list[Row] | None = None,
    lease: sync_lease.Lease | None = None,
) -> StreamResult:
    """Fetch and load one stream; failures end this stream only (auth errors propagate).

    `parents` are the rows of this stream's parent from this run; the rows this stream
    loads into its own table are appended to `keep` when a child will need them.
    """
    result = StreamResult(source=connector.name, stream=stream.name, status=RunStatus.RUNNING)
    started = time.monotonic()
    record = None
    if not options.dry_run:
        record = await sync_state.start_run(conn, options.run_id, connector.name, stream.name)
    bookmark = (
        None if options.full else await sync_state.read_state(conn, connector.name, stream.name)
    )
    context = StreamContext(
        settings=settings,
        client=client,
        state=bookmark,
        run_start=options.run_start,
        full=options.full,
        since=options.since,
        conn=conn,
        notes=result.notes,
        sweep=options.sweep,
        parents=parents,
    )
    retries_before = getattr(client, "retries", 0)
    if progress is not None:
        progress(result.model_copy())
    auth_error: SophiaError | None = None
    try:
        stopped = False
        async for page in stream.fetch(context):
            await _load_page(conn, page, result, stream.table.name, index, options.dry_run, lease)
            if keep is not None:
                keep.extend(r for t, rows in page.rows if t.name == stream.table.name for r in rows)
            result.pages += 1
            result.retries = getattr(client, "retries", 0) - retries_before
            _estimate(result, page.progress, time.monotonic() - started)
            if progress is not None:
                progress(result.model_copy())
            if options.out_of_time():
                # Every committed page carries its bookmark, so stopping here loses nothing.
                stopped = True
                result.notes.append(_time_box_note(result))
                break
        result.status = RunStatus.PARTIAL if stopped else RunStatus.SUCCESS
        if not stopped and result.progress is not None:
            result.progress, result.eta_s = 1.0, 0.0  # the rest of its steps had nothing to do
    except (SourceAuthError, SourceScopeError) as exc:
        result.status, result.error, auth_error = RunStatus.FAILED, _message(exc), exc
    except Exception as exc:  # one stream's failure, whatever its type, must not stop the others
        result.status, result.error = RunStatus.FAILED, _message(exc)
        if not isinstance(exc, SophiaError):  # unexplained: a bug worth tracking
            errortracking.capture(exc, source=connector.name, stream=stream.name)
    result.retries = getattr(client, "retries", 0) - retries_before
    result.duration_s = round(time.monotonic() - started, 3)
    if record is not None:
        await sync_state.finish_run(conn, record, result)
    if progress is not None:
        progress(result.model_copy())
    if auth_error is not None:
        raise auth_error
    return result


async def run_source(
    url: str,
    settings: Settings,
    connector: Connector,
    options: RunOptions,
    index: TextIndex | None,
    progress: Progress | None = None,
) -> SourceResult:
    """Take the source's lease, run its streams in order, and release the lease."""
    started = time.monotonic()
    report = SourceResult(source=connector.name, status=RunStatus.RUNNING)
    prepare = postgres.prepare_threshold(settings)
    holder = sync_lease.new_holder(options.run_id)
    async with sync_lease.held(
        url, connector.name, holder, wait=options.wait, prepare=prepare
    ) as lease:
        if isinstance(lease, sync_lease.Busy):
            report.status = RunStatus.ALREADY_RUNNING
            report.error = (
                f"{connector.name}: another sync of this source is already running"
                f" ({lease.describe()})"
            )
            report.hint = "Nothing to do; pass --wait to queue behind it."
            return report
        async with await AsyncConnection.connect(
            url, autocommit=True, prepare_threshold=prepare
        ) as conn:
            if not options.dry_run:
                await sync_state.close_abandoned(conn, connector.name)
            await _run_streams(conn, connector, settings, options, index, progress, report, lease)
    report.duration_s = round(time.monotonic() - started, 3)
    return report


async def _run_streams(
    conn: Conn,
    connector: Connector,
    settings: Settings,
    options: RunOptions,
    index: TextIndex | None,
    progress: Progress | None,
    report: SourceResult,
    lease: sync_lease.Lease | None = None,
) -> None:
    client = connector.client(settings)
    kept: dict[str, list[Row] | None] = {name: [] for name in parent_streams(connector)}
    try:
        for stream in connector.streams():
            if options.out_of_time():
                report.streams.append(
                    StreamResult(
                        source=connector.name,
                        stream=stream.name,
                        status=RunStatus.PARTIAL,
                        notes=["not started: --max-duration reached; the next run starts it"],
                    )
                )
                continue
            parent = parent_of(connector, stream)
            try:
                result = await run_stream(
                    conn,
                    connector,
                    stream,
                    client,
                    settings,
                    options,
                    index,
                    progress,
                    parents=kept.get(parent) if parent is not None else None,
                    keep=kept.get(stream.name),
                    lease=lease,
                )
                if stream.name in kept and result.status is not RunStatus.SUCCESS:
                    kept[stream.name] = None  # incomplete: children must not trust it
            except (SourceAuthError, SourceScopeError) as exc:
                report.streams.append(
                    StreamResult(
                        source=connector.name,
                        stream=stream.name,
                        status=RunStatus.FAILED,
                        error=exc.message,
                    )
                )
                report.status, report.error, report.hint = RunStatus.FAILED, exc.message, exc.hint
                return
            report.streams.append(result)
    finally:
        await client.aclose()
    failed = [s for s in report.streams if s.status is RunStatus.FAILED]
    partial = any(s.status is RunStatus.PARTIAL for s in report.streams)
    report.status = (
        RunStatus.FAILED if failed else RunStatus.PARTIAL if partial else RunStatus.SUCCESS
    )
    if failed:
        report.error = "; ".join(f"{s.stream}: {s.error}" for s in failed)
