"""Comparing the warehouse with the sandbox's expected rows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from sophia_cli.core.sync.models import SyncReport
from sophia_cli.sandbox.api.app import SandboxHandle

SMALL = 0.05
TABLES = (
    "hubspot.owners",
    "hubspot.companies",
    "hubspot.contacts",
    "hubspot.deals",
    "hubspot.pipelines",
    "hubspot.pipeline_stages",
    "asana.users",
    "asana.projects",
    "asana.tasks",
    "slack.users",
    "slack.channels",
    "slack.messages",
    "gong.users",
    "gong.calls",
    "gong.call_participants",
    "gong.transcripts",
)
# Tombstoned rows (vanished from the API) are kept but are not part of the source's data.
TOMBSTONED = {"asana.tasks", "slack.messages", "gong.calls"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def normal(value: Any) -> Any:
    """One comparable form for warehouse values and the sandbox's JSON values."""
    if isinstance(value, datetime):
        # Whole milliseconds, floored exactly: the sandbox writes ISO times to the
        # millisecond, while a Slack ts keeps microseconds (…003.000597 is …003.000).
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - _EPOCH) // timedelta(milliseconds=1)
    if isinstance(value, str) and _ISO.match(value):
        return normal(datetime.fromisoformat(value.replace("Z", "+00:00")))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return float(value)
    return value


def warehouse_rows(url: str, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """Rows of a warehouse table (tombstones excluded), normalised and sorted."""
    where = " WHERE NOT deleted" if table in TOMBSTONED else ""
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}{where}").fetchall()
    return sorted((tuple(normal(v) for v in row) for row in rows), key=repr)


def expected_rows(handle: SandboxHandle, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The sandbox's expected rows for a table, in the same normal form."""
    rows = handle.expected(table)
    columns = list(rows[0]) if rows else []
    return columns, sorted((tuple(normal(r[c]) for c in columns) for r in rows), key=repr)


def mismatches(url: str, handle: SandboxHandle, tables: tuple[str, ...] = TABLES) -> dict[str, str]:
    """Tables whose warehouse rows differ from the sandbox's expected rows, with a sample."""
    found = {}
    for table in tables:
        columns, expected = expected_rows(handle, table)
        if not columns:
            continue
        actual = warehouse_rows(url, table, columns)
        if actual != expected:
            missing = [r for r in expected if r not in set(actual)][:2]
            extra = [r for r in actual if r not in set(expected)][:2]
            found[table] = f"{len(actual)} vs {len(expected)}; missing {missing}; extra {extra}"
    return found


def stream_counts(report: SyncReport) -> dict[str, tuple[int, int, int]]:
    """(inserted, updated, deleted) per `source.stream`."""
    return {
        f"{s.source}.{s.stream}": (s.inserted, s.updated, s.deleted)
        for source in report.sources
        for s in source.streams
    }
