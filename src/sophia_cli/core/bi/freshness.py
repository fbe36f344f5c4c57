"""The data version and each source's freshness, for pages that refresh when a sync lands.

The version is the one the answer cache keys on (`cache.DATA_VERSION_SQL`: successful sync
runs, their count and the latest finish), so "the version changed" and "cached answers are
stale" are the same event.
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

# Per source: the statuses of its latest run (one row per stream) and its last success.
_SOURCES_SQL = """
WITH latest AS (
    SELECT DISTINCT ON (source) source, run_id FROM sophia.sync_runs
    ORDER BY source, started_at DESC, id DESC
)
SELECT latest.source, array_agg(DISTINCT runs.status),
       (SELECT max(finished_at) FROM sophia.sync_runs done
         WHERE done.source = latest.source AND done.status = 'success')
FROM latest JOIN sophia.sync_runs runs
  ON runs.source = latest.source AND runs.run_id = latest.run_id
GROUP BY latest.source
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


def data_version(settings: Settings) -> DataVersion:
    """The version and, for every declared source, its last success and latest status."""
    with pooled.pg_pool(settings).connection() as conn:
        row = conn.execute(DATA_VERSION_SQL).fetchone()
        found = {str(r[0]): r for r in conn.execute(_SOURCES_SQL).fetchall()}
        sources = []
        for connector in registry.all():
            _, statuses, success = found.get(connector.name, (None, [], None))
            status = _run_status(conn, connector.name, list(statuses or []))
            sources.append(
                SourceFreshness(source=connector.name, last_success=success, status=status)
            )
    return DataVersion(version=version_of(str(row[0]) if row else NEVER), sources=sources)
