"""Bookmarks (`sophia.sync_state`) and run records (`sophia.sync_runs`); the lock is `lease`."""

from __future__ import annotations

import json
from typing import Any

from psycopg.types.json import Jsonb

from sophia_cli.core.sync.models import RunStatus, StreamResult
from sophia_cli.core.sync.streams import Conn


async def read_state(conn: Conn, source: str, stream: str) -> dict[str, Any] | None:
    cursor = await conn.execute(
        "SELECT cursor FROM sophia.sync_state WHERE source = %s AND stream = %s", (source, stream)
    )
    row = await cursor.fetchone()
    if row is None or row[0] is None:
        return None
    value = row[0]
    return value if isinstance(value, dict) else json.loads(str(value))


async def write_state(conn: Conn, source: str, stream: str, cursor: dict[str, Any]) -> None:
    """Store a bookmark; call inside the page's transaction."""
    await conn.execute(
        "INSERT INTO sophia.sync_state (source, stream, cursor, updated_at)"
        " VALUES (%s, %s, %s, now())"
        " ON CONFLICT (source, stream) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()",
        (source, stream, Jsonb(cursor)),
    )


async def close_abandoned(conn: Conn, source: str) -> None:
    """Runs left 'running' by a killed process (we hold the lease, so none is alive)."""
    await conn.execute(
        "UPDATE sophia.sync_runs SET status = %s, finished_at = now(),"
        " error = coalesce(error, 'the process ended before the run finished')"
        " WHERE source = %s AND status = %s",
        (RunStatus.ABANDONED.value, source, RunStatus.RUNNING.value),
    )


async def start_run(conn: Conn, run_id: str, source: str, stream: str) -> int:
    cursor = await conn.execute(
        "INSERT INTO sophia.sync_runs (run_id, source, stream, status)"
        " VALUES (%s, %s, %s, %s) RETURNING id",
        (run_id, source, stream, RunStatus.RUNNING.value),
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def finish_run(conn: Conn, record_id: int, result: StreamResult) -> None:
    await conn.execute(
        "UPDATE sophia.sync_runs SET finished_at = now(), rows_inserted = %s, rows_updated = %s,"
        " rows_deleted = %s, pages = %s, retries = %s, status = %s, error = %s, notes = %s"
        " WHERE id = %s",
        (
            result.inserted,
            result.updated,
            result.deleted,
            result.pages,
            result.retries,
            result.status.value,
            result.error,
            Jsonb(result.notes) if result.notes else None,
            record_id,
        ),
    )
