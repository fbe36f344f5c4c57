"""`run_sync`: the core of `sophia sync` (and of the HTTP route that serves it)."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

from sophia_cli.core.errors import MigrationError, SophiaError, UsageError
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors import registry
from sophia_cli.core.sync.engine import RunOptions, run_source
from sophia_cli.core.sync.index import TextIndex
from sophia_cli.core.sync.models import RunStatus, SourceResult, StreamResult, SyncReport
from sophia_cli.core.sync.streams import Connector
from sophia_cli.store import migrations, postgres

_UNITS = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `2h` or `1d` as seconds; a UsageError naming the form otherwise."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*", text.lower())
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(
            f"--max-duration {text!r} is not a positive duration",
            hint="Write seconds or a number with s, m, h or d, e.g. --max-duration 50m.",
        )
    return float(match.group(1)) * _UNITS[match.group(2) or ""]


def _select(names: list[str] | None) -> tuple[list[Connector], bool]:
    """The connectors asked for (all when none named) and whether they were named."""
    if not names:
        return registry.all(), False
    unknown = [name for name in names if registry.find(name) is None]
    if unknown:
        known = ", ".join(c.name for c in registry.all())
        raise UsageError(f"unknown source: {', '.join(unknown)}", hint=f"Sources are: {known}.")
    return [registry.get(name) for name in dict.fromkeys(names)], True


def new_run_id() -> str:
    """A short id naming one sync run on every face (report, API job, sync_runs rows)."""
    return uuid.uuid4().hex[:12]


def _missing_token(settings: Settings, connector: Connector) -> list[str]:
    return [v for v in connector.token_variables if settings.secret_value(v.lower()) is None]


def _unconfigured(connector: Connector, missing: list[str], fail: bool) -> SourceResult:
    names = " and ".join(missing)
    return SourceResult(
        source=connector.name,
        status=RunStatus.FAILED if fail else RunStatus.SKIPPED,
        error=f"{connector.name}: {names} not set",
        hint=f"Set {names} (see `sophia env check`), or run `sophia demo` to try the sandbox.",
    )


def _require_schema(url: str) -> None:
    with postgres.connect_url(url, autocommit=True) as conn:
        current = migrations.state(conn)
    if current.pending or current.changed:
        raise MigrationError(
            "the warehouse schema is not up to date for sync",
            hint="Run `sophia db init` (or `sophia db upgrade`) first.",
        )


def run_sync(
    settings: Settings,
    sources: list[str] | None = None,
    *,
    full: bool = False,
    since: date | None = None,
    dry_run: bool = False,
    wait: bool = False,
    sweep: bool = False,
    max_duration: str | None = None,
    progress: Callable[[StreamResult], None] | None = None,
    run_id: str | None = None,
) -> SyncReport:
    """Sync the named sources (all when None) concurrently; one result per source.

    Sources whose token is unset are skipped in development when not named, and fail when
    named or in production. A source another process is syncing reports already_running.
    `run_id` is the caller's id for this run (the API's job id), recorded in sync_runs.
    """
    if full and since is not None:
        raise UsageError("--full and --since cannot be combined", hint="Pick one of them.")
    limit_s = parse_duration(max_duration) if max_duration is not None else None
    connectors, named = _select(sources)
    started = datetime.now(UTC)
    options = RunOptions(
        run_id=run_id or new_run_id(),
        run_start=started,
        full=full,
        since=since,
        dry_run=dry_run,
        wait=wait,
        sweep=sweep,
        deadline=time.monotonic() + limit_s if limit_s is not None else None,
    )
    runnable: list[Connector] = []
    results: dict[str, SourceResult] = {}
    for connector in connectors:
        missing = _missing_token(settings, connector)
        if missing:
            results[connector.name] = _unconfigured(
                connector, missing, named or settings.is_production
            )
        else:
            runnable.append(connector)
    if runnable:
        url = postgres.resolve_url(settings)
        _require_schema(url)
        done = asyncio.run(_run_all(url, settings, runnable, options, progress))
        results.update({result.source: result for result in done})
    return SyncReport(
        run_id=options.run_id,
        started_at=started,
        finished_at=datetime.now(UTC),
        dry_run=dry_run,
        full=full,
        sources=[results[c.name] for c in connectors],
    )


async def _guarded(
    url: str,
    settings: Settings,
    connector: Connector,
    options: RunOptions,
    index: TextIndex | None,
    progress: Callable[[StreamResult], None] | None,
) -> SourceResult:
    """One source's run; an unexpected failure fails this source, never its siblings."""
    try:
        result = await run_source(url, settings, connector, options, index, progress)
        if index is not None and result.status in (RunStatus.SUCCESS, RunStatus.FAILED):
            await _refresh_index(index, result)
        return result
    except Exception as exc:  # e.g. the warehouse connection dropped mid-run
        message = exc.message if isinstance(exc, SophiaError) else f"{type(exc).__name__}: {exc}"
        return SourceResult(
            source=connector.name,
            status=RunStatus.FAILED,
            error=message.strip(),
            hint="Fix the cause and run again; committed pages are kept and resume from there.",
        )


async def _refresh_index(index: TextIndex, result: SourceResult) -> None:
    """Bring the source's search units in line with what this run committed."""
    try:
        await index.refresh(result.source)
    except SophiaError as exc:  # the warehouse is synced; search is stale, and says so
        if result.error is None:
            result.status, result.error, result.hint = RunStatus.FAILED, exc.message, exc.hint


async def _run_all(
    url: str,
    settings: Settings,
    connectors: list[Connector],
    options: RunOptions,
    progress: Callable[[StreamResult], None] | None,
) -> list[SourceResult]:
    index = TextIndex(settings) if settings.sync_text_index and not options.dry_run else None
    try:
        runs = (_guarded(url, settings, c, options, index, progress) for c in connectors)
        return list(await asyncio.gather(*runs))
    finally:
        if index is not None:
            index.close()
