"""The spend log: one row per attempt in `sophia.llm_calls`, written before the call is made.

PostgreSQL is the system of record for spend; the Redis day counters are rebuilt from here.
A call's row is opened at its reservation (outcome `pending`) before the provider sees the
request, and closed with the real cost after: if the process dies in between, the books
still hold the most the call could have cost, never nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

import psycopg
from pydantic import BaseModel

from sophia_cli.core.errors import MigrationError, ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import pooled

log = logging.getLogger("sophia.squad")

Outcome = Literal[
    "pending", "ok", "cache_hit", "error", "rate_limited", "timeout", "cut",
    "budget_exceeded", "budget_busy", "adjustment",
]  # fmt: skip
UNITS = Decimal(100_000_000)


class CallRow(BaseModel):
    """One attempt as logged (money in integer units of 1e-8 USD)."""

    request_id: str
    squad: str | None
    deployment: str | None
    model: str | None
    kind: Literal["chat", "embedding"] = "chat"
    caller: str | None = None
    feature: str | None = None
    requested_model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cached_tokens: int = 0
    cost_units: int = 0
    reserved_units: int = 0
    baseline_units: int | None = None
    latency_ms: int | None = None
    cache_hit: bool = False
    outcome: Outcome
    error: str | None = None
    estimated: bool = False
    finish_reason: str | None = None
    attempt: int = 1

    def values(self) -> dict[str, Any]:
        data = self.model_dump(exclude={"cost_units", "reserved_units", "baseline_units"})
        data["cost_usd"] = Decimal(self.cost_units) / UNITS
        data["reserved_usd"] = Decimal(self.reserved_units) / UNITS
        data["baseline_usd"] = (
            Decimal(self.baseline_units) / UNITS if self.baseline_units is not None else None
        )
        data["error"] = (self.error or "")[:500] or None
        return data


_COLUMNS = (
    "request_id", "squad", "deployment", "model", "kind", "caller", "feature",
    "requested_model", "tokens_in", "tokens_out", "cached_tokens", "cost_usd", "reserved_usd",
    "baseline_usd", "latency_ms", "cache_hit", "outcome", "error", "estimated",
    "finish_reason", "attempt",
)  # fmt: skip
_INSERT = (
    f"INSERT INTO sophia.llm_calls ({', '.join(_COLUMNS)}, settled_at) "
    f"VALUES ({', '.join(f'%({c})s' for c in _COLUMNS)}, %(settled_at)s) RETURNING id"
)
_UPDATE = (
    "UPDATE sophia.llm_calls SET "
    + ", ".join(f"{c} = %({c})s" for c in _COLUMNS if c != "request_id")
    + ", settled_at = now() WHERE id = %(id)s"
)


def open_call(settings: Settings, row: CallRow) -> int:
    """Write a call's row before the call is made; no row, no call (fail closed)."""
    try:
        with pooled.pg_pool(settings).connection() as conn:
            found = conn.execute(_INSERT, {**row.values(), "settled_at": None}).fetchone()
    except Exception as exc:
        raise ServiceUnavailableError(
            f"the spend log cannot be written ({type(exc).__name__}): no model was called",
            hint="Check DATABASE_URL and `sophia db status`; calls resume when it is reachable.",
        ) from exc
    assert found is not None
    return int(found[0])


def close_call(settings: Settings, row_id: int, row: CallRow) -> bool:
    """Complete a call's row with what happened; False (logged) when the log is unreachable."""
    try:
        with pooled.pg_pool(settings).connection() as conn:
            conn.execute(_UPDATE, {**row.values(), "id": row_id})
        return True
    except Exception as exc:  # the answer is paid for: keep it, the row keeps the reservation
        log.warning("spend log update failed for request %s: %s", row.request_id, exc)
        return False


def record(settings: Settings, row: CallRow) -> bool:
    """Append a finished row (a cache hit, a refusal); a log failure is reported, not fatal."""
    try:
        with pooled.pg_pool(settings).connection() as conn:
            conn.execute(_INSERT, {**row.values(), "settled_at": datetime.now(UTC)})
        return True
    except Exception as exc:
        log.warning("spend log write failed for request %s: %s", row.request_id, exc)
        return False


@contextmanager
def log_table(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection; a warehouse without the spend log says how to create it."""
    with pooled.pg_pool(settings).connection() as conn:
        try:
            yield conn
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as exc:
            raise MigrationError(
                "the spend log sophia.llm_calls is missing or out of date in this warehouse",
                hint="Run `sophia db upgrade` first.",
            ) from exc


def day_range(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


_DAY_TOTALS = """
SELECT squad, caller, feature, GROUPING(squad, caller, feature), coalesce(sum(cost_usd), 0)
FROM sophia.llm_calls WHERE called_at >= %s AND called_at < %s
GROUP BY GROUPING SETS ((), (squad), (caller), (feature))
"""


def day_totals(settings: Settings, day: date) -> dict[str, int]:
    """Spend of one UTC day in budget units: `*` for the day, then per squad, caller, feature."""
    with log_table(settings) as conn:
        rows = conn.execute(_DAY_TOTALS, day_range(day)).fetchall()
    totals = {"*": 0}
    for squad, caller, feature, grouping, total in rows:
        units = int(Decimal(str(total)) * UNITS)
        scope = {7: "*", 3: f"squad:{squad}", 5: f"caller:{caller}", 6: f"feature:{feature}"}
        name = scope.get(int(grouping))
        member = {3: squad, 5: caller, 6: feature}.get(int(grouping), "*")
        if name is not None and member is not None:
            totals[name] = units
    return totals
