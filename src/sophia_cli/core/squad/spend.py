"""The spend log: one row per call in `sophia.llm_calls`, and reports over it.

PostgreSQL is the system of record for spend; the Redis day counter is rebuilt from here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

import psycopg
from psycopg import sql
from pydantic import BaseModel

from sophia_cli.core.errors import MigrationError, UsageError
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad.models import SpendReport, SpendRow
from sophia_cli.store import pooled

log = logging.getLogger("sophia.squad")

Outcome = Literal["ok", "cache_hit", "error", "budget_exceeded"]
GROUPS = {
    "model": sql.SQL("coalesce(model, '-')"),
    "squad": sql.SQL("coalesce(squad, '-')"),
    "day": sql.SQL("to_char(called_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
}


class CallRow(BaseModel):
    """One call as logged."""

    request_id: str
    squad: str | None
    deployment: str | None
    model: str | None
    tokens_in: int = 0
    tokens_out: int = 0
    cost_units: int = 0  # 1e-8 USD, exact in numeric(14, 8)
    reserved_units: int = 0
    latency_ms: int | None = None
    cache_hit: bool = False
    outcome: Outcome
    error: str | None = None


_INSERT = """
INSERT INTO sophia.llm_calls (request_id, squad, deployment, model, tokens_in, tokens_out,
    cost_usd, reserved_usd, latency_ms, cache_hit, outcome, error)
VALUES (%s, %s, %s, %s, %s, %s, %s / 1e8, %s / 1e8, %s, %s, %s, %s)
"""


def record(settings: Settings, row: CallRow) -> bool:
    """Append one call to the log; a log failure is reported, never fatal to the answer."""
    try:
        with pooled.pg_pool(settings).connection() as conn:
            conn.execute(
                _INSERT,
                (
                    row.request_id,
                    row.squad,
                    row.deployment,
                    row.model,
                    row.tokens_in,
                    row.tokens_out,
                    row.cost_units,
                    row.reserved_units,
                    row.latency_ms,
                    row.cache_hit,
                    row.outcome,
                    (row.error or "")[:500] or None,
                ),
            )
        return True
    except Exception as exc:  # the answer is paid for already: keep it, say what was lost
        log.warning("spend log write failed for request %s: %s", row.request_id, exc)
        return False


@contextmanager
def _log_table(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection; a warehouse without the spend log says how to create it."""
    with pooled.pg_pool(settings).connection() as conn:
        try:
            yield conn
        except psycopg.errors.UndefinedTable as exc:
            raise MigrationError(
                "the spend log table sophia.llm_calls does not exist in this warehouse",
                hint="Run `sophia db init` (or `sophia db upgrade`) first.",
            ) from exc


def day_totals(settings: Settings, day: date) -> dict[str, int]:
    """Spend per squad on one UTC day, in budget units (1e-8 USD)."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    query = """
        SELECT coalesce(squad, '-'), coalesce(sum(cost_usd), 0)
        FROM sophia.llm_calls WHERE called_at >= %s AND called_at < %s GROUP BY 1
    """
    with _log_table(settings) as conn:
        rows = conn.execute(query, (start, start + timedelta(days=1))).fetchall()
    return {str(squad): int(Decimal(str(total)) * 100_000_000) for squad, total in rows}


def spend_report(settings: Settings, days: int = 7, by: str = "model") -> SpendReport:
    """Calls, tokens and cost over the last `days` UTC days, grouped by model, squad or day."""
    if by not in GROUPS:
        raise UsageError(f"--by {by} is not one of: {', '.join(GROUPS)}")
    if days < 1:
        raise UsageError("--days must be at least 1")
    since = datetime.combine(datetime.now(UTC).date() - timedelta(days=days - 1), time.min, UTC)
    query = sql.SQL(
        """SELECT {group} AS key, count(*), count(*) FILTER (WHERE cache_hit),
               count(*) FILTER (WHERE outcome NOT IN ('ok', 'cache_hit')),
               coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),
               coalesce(sum(cost_usd), 0)
           FROM sophia.llm_calls WHERE called_at >= %s GROUP BY 1 ORDER BY {order}"""
    ).format(group=GROUPS[by], order=sql.SQL("1" if by == "day" else "7 DESC, 1"))
    with _log_table(settings) as conn:
        rows = conn.execute(query, (since,)).fetchall()
    result = [
        SpendRow(
            key=str(r[0]),
            calls=int(r[1]),
            cache_hits=int(r[2]),
            failures=int(r[3]),
            tokens_in=int(r[4]),
            tokens_out=int(r[5]),
            cost_usd=float(r[6]),
        )
        for r in rows
    ]
    return SpendReport(
        days=days,
        by=by,
        rows=result,
        total_usd=round(sum(row.cost_usd for row in result), 8),
        total_calls=sum(row.calls for row in result),
    )
