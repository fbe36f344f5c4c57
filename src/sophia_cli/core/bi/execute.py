"""Run SQL read-only: a READ ONLY transaction, a statement timeout, UTC, the reader role.

Every statement `ask` and `query` send goes through `Reader.fetch`, so compiled SQL and
guarded raw SQL share the same walls. Values come back JSON-ready (numbers, ISO dates).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from pydantic import BaseModel

from sophia_cli.core.bi import guard
from sophia_cli.core.errors import InputError, PermissionDeniedError, SophiaError
from sophia_cli.core.settings import Settings
from sophia_cli.store import postgres

READER_ROLE = "sophia_reader"
_CAN_USE_READER = """
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sophia_reader')
            THEN pg_has_role('sophia_reader', 'MEMBER')
                 AND has_schema_privilege('sophia_reader', 'hubspot', 'USAGE')
            ELSE false END
"""
_KNOWN_TABLES = """
SELECT table_schema, table_name FROM information_schema.tables
WHERE table_schema = ANY(%s)
"""


class QueryResult(BaseModel):
    """Rows of one guarded query."""

    sql: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_ms: float


def jsonable(value: Any) -> Any:
    """A cell as plain JSON: numbers stay numbers, dates become ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def _refusal(exc: psycopg.Error) -> SophiaError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return InputError(
            f"the query was cancelled: {first}",
            hint="Narrow the question or raise ASK_STATEMENT_TIMEOUT_MS.",
        )
    if isinstance(
        exc, psycopg.errors.ReadOnlySqlTransaction | psycopg.errors.InsufficientPrivilege
    ):
        return PermissionDeniedError(
            f"the database refused the query: {first}", hint="Only reading is allowed here."
        )
    return InputError(f"the database refused the query: {first}", hint="Fix the SQL and retry.")


class Reader:
    """One connection that only ever runs read-only transactions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.conn = postgres.connect(settings)
        self.conn.read_only = True
        self._reader_role: bool | None = None

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def uses_reader_role(self) -> bool:
        """Whether statements run as sophia_reader (migration 0004 could create it)."""
        if self._reader_role is None:
            with self.conn.transaction():
                row = self.conn.execute(_CAN_USE_READER).fetchone()
            self._reader_role = bool(row and row[0])
        return self._reader_role

    def fetch(
        self, sql: str, params: dict[str, Any] | None = None, *, cap: int | None = None
    ) -> tuple[list[str], list[list[Any]], bool]:
        """Columns, rows (at most `cap`) and whether more rows existed."""
        use_role = self.uses_reader_role()
        try:
            with self.conn.transaction() as tx:
                self.conn.execute(
                    "SELECT set_config('statement_timeout', %s, true),"
                    " set_config('TimeZone', 'UTC', true)",
                    [str(int(self.settings.ask_statement_timeout_ms))],
                )
                if use_role:
                    self.conn.execute(f"SET LOCAL ROLE {READER_ROLE}")
                cursor = self.conn.execute(sql, params)
                columns = [column.name for column in cursor.description or []]
                raw = cursor.fetchmany(cap + 1) if cap is not None else cursor.fetchall()
                raise psycopg.Rollback(tx)  # nothing to keep, even when nothing was written
        except psycopg.OperationalError as exc:
            if isinstance(exc, psycopg.errors.QueryCanceled):
                raise _refusal(exc) from exc
            raise postgres.unreachable(postgres.resolve_url(self.settings), exc) from exc
        except psycopg.Error as exc:
            raise _refusal(exc) from exc
        truncated = cap is not None and len(raw) > cap
        rows = [[jsonable(cell) for cell in row] for row in raw[: cap if cap is not None else None]]
        return columns, rows, truncated

    def known_tables(self) -> set[tuple[str, str]]:
        """Tables of the synced schemas that exist, plus sophia's readable run records."""
        with self.conn.transaction():
            rows = self.conn.execute(_KNOWN_TABLES, [list(guard.SOURCE_SCHEMAS)]).fetchall()
        return {(str(row[0]), str(row[1])) for row in rows} | guard.READABLE_OWN_TABLES


def run_query(settings: Settings, sql: str, *, limit: int | None = None) -> QueryResult:
    """Guard `sql`, then run it read-only with a row cap (ASK_ROW_LIMIT at most)."""
    cap = min(limit, settings.ask_row_limit) if limit else settings.ask_row_limit
    if cap < 1:
        raise InputError("--limit must be at least 1")
    with Reader(settings) as reader:
        checked = guard.check(sql, reader.known_tables())
        started = time.perf_counter()
        columns, rows, truncated = reader.fetch(guard.with_row_cap(checked, cap + 1), cap=cap)
        elapsed = (time.perf_counter() - started) * 1000
    return QueryResult(
        sql=checked, columns=columns, rows=rows, row_count=len(rows), truncated=truncated,
        elapsed_ms=round(elapsed, 2),
    )  # fmt: skip
