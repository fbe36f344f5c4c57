"""The daily budget: reserve the worst case before a call, settle the real cost after.

Counters live in one Redis hash per UTC day (`store.redis.key(settings, "squad", "budget",
DAY)`) and change only through `budget.lua`, so concurrent calls from any number of processes
can never overspend. Redis only caches the day: when the hash is missing (a restart, a
FLUSHALL) it is rebuilt from the spend log in PostgreSQL before anything is reserved.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from sophia_cli.core.errors import BudgetExceededError
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import spend
from sophia_cli.core.squad.models import ALERT_LEVELS, BudgetStatus
from sophia_cli.store import pooled
from sophia_cli.store import redis as redis_store

UNITS_PER_USD = 100_000_000  # 1e-8 USD, the spend log's numeric(14, 8) scale
DAY_TTL_S = 3 * 24 * 3600
_MISSING = -1


class Reservation(BaseModel):
    """Money held for one in-flight call, to be settled exactly once."""

    day: date
    squad: str
    units: int

    @property
    def usd(self) -> float:
        return self.units / UNITS_PER_USD


class Settlement(BaseModel):
    """The day's counters after a settle, and alert levels this settle crossed."""

    spent_usd: float
    crossed: list[int]


def to_units(usd: float, *, round_up: bool = False) -> int:
    """USD to integer budget units (reservations round up, real costs to nearest)."""
    scaled = usd * UNITS_PER_USD
    return math.ceil(scaled - 1e-6) if round_up else round(scaled)


def today() -> date:
    return datetime.now(UTC).date()


def day_key(settings: Settings, day: date) -> str:
    return redis_store.key(settings, "squad", "budget", day.isoformat())


@lru_cache(maxsize=1)
def _script_text() -> str:
    return resources.files("sophia_cli.core.squad").joinpath("budget.lua").read_text("utf-8")


def _run(settings: Settings, day: date, *args: Any) -> Any:
    client = pooled.redis_client(settings)
    script = client.register_script(_script_text())
    try:
        return script(keys=[day_key(settings, day)], args=list(args))
    except pooled.REDIS_DOWN as exc:
        raise pooled.redis_unreachable(settings, exc) from exc


def _call(settings: Settings, day: date, *args: Any) -> list[int]:
    """Run an operation, rebuilding the day's counter from the spend log when it is missing."""
    result = _run(settings, day, *args)
    if isinstance(result, list) and result and int(result[0]) == _MISSING:
        rebuild(settings, day)
        result = _run(settings, day, *args)
    return [int(value) for value in result]


def rebuild(settings: Settings, day: date) -> bool:
    """Recreate the day's counter from PostgreSQL; False when another process already did."""
    totals = spend.day_totals(settings, day)
    total = sum(totals.values())
    budget = to_units(settings.squad_daily_budget_usd)
    # Levels already crossed were alerted (or should have been) before the counter was lost.
    crossed = [str(level) for level in ALERT_LEVELS if budget and total * 100 >= level * budget]
    pairs = [item for squad, units in totals.items() for item in (squad, units)]
    created = _run(settings, day, "init", DAY_TTL_S, total, ",".join(crossed), *pairs)
    return bool(created)


def reserve(
    settings: Settings, squad: str, usd: float, squad_budget_usd: float | None
) -> Reservation:
    """Hold `usd` of today's budget for one call, or raise BudgetExceededError."""
    day = today()
    units = to_units(usd, round_up=True)
    budget = to_units(settings.squad_daily_budget_usd)
    squad_budget = to_units(squad_budget_usd) if squad_budget_usd is not None else -1
    status, spent, reserved = _call(settings, day, "reserve", squad, units, budget, squad_budget)[
        :3
    ]
    if status == 1:
        return Reservation(day=day, squad=squad, units=units)
    limit, scope = (budget, "today's") if status == 0 else (squad_budget, f"squad {squad}'s")
    left = max(0, limit - spent - reserved) / UNITS_PER_USD
    raise BudgetExceededError(
        f"{scope} budget cannot cover this call: needs up to {usd_text(usd)}, "
        f"{usd_text(left)} left of {usd_text(limit / UNITS_PER_USD)}"
    )


def usd_text(value: float) -> str:
    """Dollars for people: cents when they matter, else six decimals."""
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.6f}"


def settle(settings: Settings, reservation: Reservation, actual_usd: float) -> Settlement:
    """Release the reservation and charge the real cost; reports alert levels crossed now."""
    budget = to_units(settings.squad_daily_budget_usd)
    result = _call(
        settings,
        reservation.day,
        "settle",
        reservation.squad,
        reservation.units,
        to_units(actual_usd),
        budget,
        *ALERT_LEVELS,
    )
    return Settlement(spent_usd=result[1] / UNITS_PER_USD, crossed=result[3:])


def release(settings: Settings, reservation: Reservation) -> None:
    """Give a reservation back unused (the call failed before costing anything)."""
    settle(settings, reservation, 0.0)


def budget_status(settings: Settings) -> BudgetStatus:
    """Today's spend, reservations and what is left, rebuilding the counter if it was lost."""
    day = today()
    client = pooled.redis_client(settings)
    key = day_key(settings, day)
    rebuilt = False
    try:
        if not client.hexists(key, "ready"):
            rebuilt = rebuild(settings, day)
        fields = {_text(k): int(float(v)) for k, v in client.hgetall(key).items()}
    except pooled.REDIS_DOWN as exc:
        raise pooled.redis_unreachable(settings, exc) from exc
    return _status(settings, day, fields, rebuilt)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _status(settings: Settings, day: date, fields: dict[str, int], rebuilt: bool) -> BudgetStatus:
    budget = settings.squad_daily_budget_usd
    spent = fields.get("spent", 0) / UNITS_PER_USD
    reserved = fields.get("reserved", 0) / UNITS_PER_USD
    squads: dict[str, dict[str, float]] = {}
    for name, value in fields.items():
        kind, _, squad = name.partition(":")
        if kind in ("spent", "reserved") and squad:
            squads.setdefault(squad, {"spent_usd": 0.0, "reserved_usd": 0.0})
            squads[squad][f"{kind}_usd"] = value / UNITS_PER_USD
    return BudgetStatus(
        day=day,
        budget_usd=budget,
        spent_usd=spent,
        reserved_usd=reserved,
        remaining_usd=max(0.0, budget - spent - reserved),
        percent_used=round(100 * spent / budget, 2) if budget else 0.0,
        alerts_crossed=[level for level in ALERT_LEVELS if spent * 100 >= level * budget],
        squads=squads,
        rebuilt=rebuilt,
    )
