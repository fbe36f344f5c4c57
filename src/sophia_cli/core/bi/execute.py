"""Run SQL read-only: a READ ONLY transaction, a statement timeout, UTC, the reader role.

Every statement `ask` and `query` send goes through `Reader.fetch`, so compiled SQL and
guarded raw SQL share the same walls: a pooled connection of this process, parse-relevant
settings forced for the transaction, one statement through the extended protocol, and a
rollback at the end. Values come back JSON-ready (numbers, ISO dates).
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import psycopg
from pydantic import BaseModel

from sophia_cli.core.bi import guard
from sophia_cli.core.errors import (
    InputError,
    PermissionDeniedError,
    ServiceUnavailableError,
    SophiaError,
)
from sophia_cli.core.settings import Settings
from sophia_cli.store import pooled, postgres

READER_ROLE = "sophia_reader"
POOL_WAIT_S = 10.0
_CAN_USE_READER = """
SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sophia_reader')
            THEN false
            WHEN NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'hubspot')
            THEN false  -- a warehouse not set up yet: ask says so instead of failing here
            ELSE pg_has_role('sophia_reader', 'MEMBER')
                 AND has_schema_privilege('sophia_reader', 'hubspot', 'USAGE') END
"""
_KNOWN_TABLES = """
SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
"""
KNOWN_TABLES_TTL_S = 30.0
# A "no" is read again this often: a process that asked before `db init` (or before
# `db upgrade` created the role) starts reading as sophia_reader soon after, not at restart.
# A "yes" is kept until a statement fails; then it is read again too.
READER_ROLE_RECHECK_S = 5.0
# Settings the parser depends on are forced for the transaction, whatever the server,
# database or role say: the guard parsed the SQL with these (a legacy
# standard_conforming_strings = off would read 'a\' as an unfinished string). Names
# resolve in pg_catalog only, so no function or operator of another schema can shadow a
# built-in one.
_PREAMBLE = """
SELECT set_config('statement_timeout', %(timeout)s, true),
       set_config('lock_timeout', %(timeout)s, true),
       set_config('TimeZone', 'UTC', true),
       set_config('standard_conforming_strings', 'on', true),
       set_config('backslash_quote', 'safe_encoding', true),
       set_config('search_path', 'pg_catalog, pg_temp', true)
"""
_AS_READER = ", set_config('role', 'sophia_reader', true)"


class QueryResult(BaseModel):
    """Rows of one guarded query."""

    sql: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    truncated_by: Literal["rows", "bytes"] | None = None
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
    if isinstance(exc, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
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
    if isinstance(exc, psycopg.errors.ProgramLimitExceeded | psycopg.errors.OutOfMemory):
        return InputError(
            f"the query asks for more than the database allows: {first}",
            hint="Ask for smaller values or fewer rows.",
        )
    return InputError(f"the database refused the query: {first}", hint="Fix the SQL and retry.")


def _is_refusal(exc: psycopg.Error) -> bool:
    """Errors about the statement itself, as opposed to a connection that failed."""
    return not isinstance(exc, psycopg.OperationalError) or isinstance(
        exc,
        psycopg.errors.QueryCanceled
        | psycopg.errors.LockNotAvailable
        | psycopg.errors.ProgramLimitExceeded
        | psycopg.errors.OutOfMemory,
    )


class Reader:
    """A pooled connection that only ever runs read-only transactions."""

    def __init__(self, settings: Settings) -> None:
        from psycopg_pool import PoolTimeout

        self.settings = settings
        self._pool = pooled.read_pool(settings)
        try:
            self.conn = self._pool.pool.getconn(timeout=POOL_WAIT_S)
        except PoolTimeout as exc:
            raise ServiceUnavailableError(
                f"all {self._pool.pool.max_size} warehouse connections stayed busy for "
                f"{POOL_WAIT_S:g} s",
                hint="Retry shortly, or raise DATABASE_POOL_MAX.",
            ) from exc

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pool.pool.putconn(self.conn)

    def uses_reader_role(self) -> bool:
        """Whether statements run as sophia_reader (`db upgrade` creates it when it may).

        One catalog query per process while the answer is yes; a no is re-read every
        READER_ROLE_RECHECK_S, so setting the warehouse up takes effect without a restart.
        """
        known, now = self._pool.reader_role, time.monotonic()
        if known is True:
            return True
        if known is False and now - self._pool.reader_role_at < READER_ROLE_RECHECK_S:
            return False
        with self.conn.transaction():
            row = self.conn.execute(_CAN_USE_READER).fetchone()
        self._pool.reader_role, self._pool.reader_role_at = bool(row and row[0]), now
        return self._pool.reader_role

    def _forget_reader_role(self) -> None:
        """After a failed statement: the role may have been dropped or its grants revoked."""
        self._pool.reader_role = None

    def fetch(
        self, sql: str, params: dict[str, Any] | None = None, *, cap: int | None = None
    ) -> tuple[list[str], list[list[Any]], bool]:
        """Columns, rows (at most `cap`) and whether more rows existed.

        BEGIN, the preamble and the statement travel in one pipeline (one round trip), and
        pipeline mode uses the extended protocol, which runs exactly one statement: nothing
        stacked after a `;` can ever execute.
        """
        preamble = _PREAMBLE + (_AS_READER if self.uses_reader_role() else "")
        timeout = str(int(self.settings.ask_statement_timeout_ms))
        try:
            with self.conn.pipeline(), self.conn.transaction() as tx:
                self.conn.execute(preamble, {"timeout": timeout})
                cursor = self.conn.execute(sql, params)
                raw = cursor.fetchmany(cap + 1) if cap is not None else cursor.fetchall()
                columns = [column.name for column in cursor.description or []]
                raise psycopg.Rollback(tx)  # nothing to keep, even when nothing was written
        except psycopg.Error as exc:
            if _is_refusal(exc):
                self._forget_reader_role()
                raise _refusal(exc) from exc
            raise postgres.unreachable(postgres.resolve_url(self.settings), exc) from exc
        truncated = cap is not None and len(raw) > cap
        rows = [[jsonable(cell) for cell in row] for row in raw[: cap if cap is not None else None]]
        return columns, rows, truncated

    def fetch_capped(
        self, checked: str, cap: int, max_bytes: int
    ) -> tuple[list[str], list[list[Any]], Literal["rows", "bytes"] | None]:
        """Run guarded SQL with the row and byte caps applied by the server; what was cut."""
        columns, raw, _ = self.fetch(guard.with_caps(checked, cap, max_bytes))
        existed = int(raw[0][-1]) if raw else 0
        rows = [row[:-3] for row in raw if row[-3] is not None][:cap]
        if existed and not rows:
            raise InputError(
                f"the first row alone is larger than {max_bytes:,} bytes",
                hint="Select fewer or shorter columns (ASK_MAX_RESULT_BYTES sets the limit).",
            )
        cut: Literal["rows", "bytes"] | None = None
        if len(rows) < min(existed, cap):
            cut = "bytes"
        elif existed > cap:
            cut = "rows"
        return columns[:-3], rows, cut

    def known_tables(self) -> set[tuple[str, str]]:
        """Tables of the synced schemas that exist, plus sophia's readable run records.

        Read at most every KNOWN_TABLES_TTL_S per process: a table added by a migration is
        queryable that much later at worst, and one that vanished fails in the database.
        """
        cached = self._pool.known_tables
        now = time.monotonic()
        if cached is not None and now - cached[0] < KNOWN_TABLES_TTL_S:
            return cached[1]
        with self.conn.transaction():
            rows = self.conn.execute(_KNOWN_TABLES, [list(guard.SOURCE_SCHEMAS)]).fetchall()
        if not rows:  # the first migration creates every synced table: none means none ran
            from sophia_cli.core.failures import missing_schema

            raise missing_schema()
        found = {(str(row[0]), str(row[1])) for row in rows} | guard.READABLE_OWN_TABLES
        self._pool.known_tables = (now, found)
        return found


def run_query(settings: Settings, sql: str, *, limit: int | None = None) -> QueryResult:
    """Guard `sql`, then run it read-only, capped at ASK_ROW_LIMIT rows and
    ASK_MAX_RESULT_BYTES bytes (`limit` may ask for fewer rows)."""
    cap = min(limit, settings.ask_row_limit) if limit else settings.ask_row_limit
    if cap < 1:
        raise InputError("--limit must be at least 1")
    with Reader(settings) as reader:
        checked = guard.check(sql, reader.known_tables())
        started = time.perf_counter()
        columns, rows, cut = reader.fetch_capped(checked, cap, settings.ask_max_result_bytes)
        elapsed = (time.perf_counter() - started) * 1000
    return QueryResult(
        sql=checked, columns=columns, rows=rows, row_count=len(rows), truncated=cut is not None,
        truncated_by=cut, elapsed_ms=round(elapsed, 2),
    )  # fmt: skip
