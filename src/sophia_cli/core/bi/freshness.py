"""The data version and each source's freshness, for pages that refresh when a sync lands.

The version is the one the answer cache keys on (`cache.DATA_VERSION_SQL`: a sequence every
sync run record moves), so "the version changed" and "cached answers are stale" are the same
event.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from sophia_cli.core.bi.cache import DATA_VERSION_SQL
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors import registry
from sophia_cli.core.sync.models import RunStatus
from sophia_cli.store import pooled

NEVER = "never"

# Per declared (source, stream): its latest run and its last success. Each is one step down
# an index of sync_runs (source, stream, …), so the cost does not grow with the history;
# one query over the whole table took 1.9 s at 300k runs.
_STREAMS_SQL = """
SELECT declared.source, latest.run_id, latest.started_at, latest.status, done.finished_at
FROM unnest(%(sources)s::text[], %(streams)s::text[]) AS declared(source, stream)
LEFT JOIN LATERAL (
    SELECT run_id, started_at, status FROM sophia.sync_runs runs
    WHERE runs.source = declared.source AND runs.stream = declared.stream
    ORDER BY started_at DESC LIMIT 1
) latest ON true
LEFT JOIN LATERAL (
    SELECT finished_at FROM sophia.sync_runs runs
    WHERE runs.source = declared.source AND runs.stream = declared.stream
      AND runs.status = 'success' AND runs.finished_at IS NOT NULL
    ORDER BY finished_at DESC LIMIT 1
) done ON true
"""

# A run's streams can end differently; the run reads as its most telling one.
_PRECEDENCE = [RunStatus.RUNNING, RunStatus.FAILED, RunStatus.ABANDONED, RunStatus.PARTIAL,
               RunStatus.ALREADY_RUNNING, RunStatus.SKIPPED, RunStatus.SUCCESS]  # fmt: skip

# True when no process holds the source's sync lease: a "running" row is then abandoned.
_LEASE_FREE = (
    "SELECT NOT EXISTS (SELECT 1 FROM sophia.sync_leases WHERE source = %s AND expires_at > now())"
)


class SourceFreshness(BaseModel):
    source: str
    last_success: datetime | None
    status: str  # the latest run's status (RunStatus), or "never"


class DataVersion(BaseModel):
    """Exactly what `GET /v1/data-version` returns."""

    version: str
    sources: list[SourceFreshness]


def version_of(raw: str) -> str:
    """A short opaque version from the cache's version text."""
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _run_status(conn: Any, source: str, statuses: list[str]) -> str:
    seen = {RunStatus(status) for status in statuses if status in RunStatus.__members__.values()}
    status = next((s for s in _PRECEDENCE if s in seen), None)
    if status is None:
        return statuses[0] if statuses else NEVER
    if status is RunStatus.RUNNING:
        row = conn.execute(_LEASE_FREE, (source,)).fetchone()
        if row and row[0]:
            return RunStatus.ABANDONED.value  # killed mid-run; the next run closes its rows
    return status.value


def current_version(settings: Settings) -> str:
    """The data version alone (one small query)."""
    with pooled.pg_pool(settings).connection() as conn:
        row = conn.execute(DATA_VERSION_SQL).fetchone()
    return version_of(str(row[0]) if row else NEVER)


def _by_source(rows: list[tuple[Any, ...]]) -> dict[str, tuple[list[str], datetime | None]]:
    """Per source: the statuses its streams ended with in its latest run, its last success."""
    found: dict[str, tuple[list[str], datetime | None]] = {}
    latest: dict[str, tuple[datetime, str]] = {}
    for source, run_id, started_at, _, _ in rows:
        if started_at is not None and (source not in latest or started_at > latest[source][0]):
            latest[source] = (started_at, run_id)
    for source, run_id, _, status, success in rows:
        statuses, last = found.get(source, ([], None))
        if status is not None and source in latest and run_id == latest[source][1]:
            statuses.append(status)
        if success is not None and (last is None or success > last):
            last = success
        found[source] = (statuses, last)
    return found


def data_version(settings: Settings) -> DataVersion:
    """The version and, for every declared source, its last success and latest status."""
    pairs = [(c.name, stream.name) for c in registry.all() for stream in c.streams()]
    params = {"sources": [p[0] for p in pairs], "streams": [p[1] for p in pairs]}
    with pooled.pg_pool(settings).connection() as conn:
        row = conn.execute(DATA_VERSION_SQL).fetchone()
        found = _by_source(conn.execute(_STREAMS_SQL, params).fetchall())
        sources = []
        for connector in registry.all():
            statuses, success = found.get(connector.name, ([], None))
            status = _run_status(conn, connector.name, statuses)
            sources.append(
                SourceFreshness(source=connector.name, last_success=success, status=status)
            )
    return DataVersion(version=version_of(str(row[0]) if row else NEVER), sources=sources)
