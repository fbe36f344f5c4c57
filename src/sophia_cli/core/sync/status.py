"""`sync_status`: per stream, the last success, lag, rows and last error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from psycopg import sql

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors import registry
from sophia_cli.core.sync.models import RunStatus, StreamStatus, SyncStatus
from sophia_cli.store import postgres

_LAST_RUNS = """
SELECT
  (SELECT max(finished_at) FROM sophia.sync_runs
    WHERE source = %(source)s AND stream = %(stream)s AND status = 'success'),
  (SELECT status FROM sophia.sync_runs
    WHERE source = %(source)s AND stream = %(stream)s ORDER BY started_at DESC, id DESC LIMIT 1),
  (SELECT error FROM sophia.sync_runs
    WHERE source = %(source)s AND stream = %(stream)s AND error IS NOT NULL
    ORDER BY started_at DESC, id DESC LIMIT 1),
  (SELECT cursor FROM sophia.sync_state WHERE source = %(source)s AND stream = %(stream)s)
"""


# True when no process holds the source's sync lock (taken and released at once).
_LEASE_FREE = (
    "SELECT NOT EXISTS (SELECT 1 FROM sophia.sync_leases WHERE source = %s AND expires_at > now())"
)


def _still_running(conn: Any, source: str, last_status: str | None) -> RunStatus | None:
    """The last status, with "running" read as "abandoned" when no sync holds the lease.

    A sync killed by Ctrl-C leaves its rows "running" until the next run of the source
    closes them; status must not claim a run that no process is doing.
    """
    if last_status is None:
        return None
    status = RunStatus(last_status)
    if status is not RunStatus.RUNNING:
        return status
    row = conn.execute(_LEASE_FREE, (source,)).fetchone()
    return RunStatus.ABANDONED if row and row[0] else status


def _count(conn: Any, table: str) -> int | None:
    schema, name = table.split(".")
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name)))
    value = row.fetchone()
    return int(value[0]) if value else None


def sync_status(settings: Settings) -> SyncStatus:
    """Freshness of every declared stream, read from `sophia.sync_runs` and the tables."""
    now = datetime.now(UTC)
    streams = []
    with postgres.connect(settings, autocommit=True) as conn:
        for connector in registry.all():
            for stream in connector.streams():
                params = {"source": connector.name, "stream": stream.name}
                row = conn.execute(_LAST_RUNS, params).fetchone()
                assert row is not None
                success, last_status, error, cursor = cast(tuple[Any, ...], row)
                streams.append(
                    StreamStatus(
                        source=connector.name,
                        stream=stream.name,
                        table=stream.table.name,
                        rows=_count(conn, stream.table.name),
                        last_success=success,
                        lag_s=(now - success).total_seconds() if success else None,
                        last_status=_still_running(conn, connector.name, last_status),
                        last_error=error,
                        cursor=cursor,
                    )
                )
    return SyncStatus(streams=streams)
