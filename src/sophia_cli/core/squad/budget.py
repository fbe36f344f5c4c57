"""Daily budgets: reserve the worst case before a call, settle the real cost after.

Counters live in one Redis hash per UTC day and change only through `budget.lua`, so
concurrent calls from any number of processes can never overspend. Beside the day's budget
(SQUAD_DAILY_BUDGET_USD) a call is held against its squad's, its caller's (JWT `sub`) and its
feature tag's budget when the squads file sets one. Each reservation is a hold with a
deadline: a hold nobody settles (a killed process) is charged in full when it expires.
Redis only caches the day: when the hash is missing (a restart, a FLUSHALL) it is rebuilt
from the spend log in PostgreSQL, where every call is written before its call is made.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from sophia_cli.core.errors import BudgetExceededError, RateLimitedError
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import spend
from sophia_cli.core.squad.models import ALERT_LEVELS
from sophia_cli.core.squad.results import BudgetStatus
from sophia_cli.store import pooled
from sophia_cli.store import redis as redis_store

UNITS_PER_USD = 100_000_000  # 1e-8 USD, the spend log's numeric(14, 8) scale
DAY_TTL_S = 3 * 24 * 3600
DAY = "*"
_MISSING = -1


class BudgetBusyError(RateLimitedError):
    """The budget has room, but calls in flight hold it: retry shortly (429, not 402)."""

    code = "budget_busy"
    default_hint = (
        "Calls in flight hold the rest of the budget until they settle; retry after Retry-After."
    )


@dataclass(frozen=True)
class Scope:
    """One budget a call is held against: `*`, squad:<name>, caller:<sub> or feature:<tag>."""

    name: str
    limit_usd: float | None
    label: str


class Reservation(BaseModel):
    """Money held for one in-flight call, to be settled exactly once."""

    day: date
    hold_id: str
    units: int
    scopes: list[str]

    @property
    def usd(self) -> float:
        return self.units / UNITS_PER_USD


class Settlement(BaseModel):
    """The day's counters after a settle, and alert levels this settle crossed."""

    spent_usd: float
    reserved_usd: float
    crossed: list[int]
    known: bool = True


class Refusal(BaseModel):
    """Why a reservation did not fit, and whether the 100 % alert fired just now."""

    error: BudgetExceededError | BudgetBusyError
    alerted: bool

    model_config = {"arbitrary_types_allowed": True}


def to_units(usd: float, *, round_up: bool = False) -> int:
    """USD to integer budget units (reservations round up, real costs to nearest)."""
    scaled = usd * UNITS_PER_USD
    return math.ceil(scaled - 1e-6) if round_up else round(scaled)


def today() -> date:
    return datetime.now(UTC).date()


def day_keys(settings: Settings, day: date) -> list[str]:
    """The day's hash and holds; one hash tag so a cluster keeps them in one slot."""
    tag = "{" + settings.redis_key_prefix + "squad:" + day.isoformat() + "}"
    return [
        redis_store.key(settings, "squad", "budget", tag),
        redis_store.key(settings, "squad", "holds", tag),
    ]


def day_key(settings: Settings, day: date) -> str:
    return day_keys(settings, day)[0]


@lru_cache(maxsize=1)
def _script_text() -> str:
    return resources.files("sophia_cli.core.squad").joinpath("budget.lua").read_text("utf-8")


def _run(settings: Settings, day: date, *args: Any) -> Any:
    client = pooled.redis_client(settings)
    script = client.register_script(_script_text())
    try:
        return script(keys=day_keys(settings, day), args=list(args))
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
    """Recreate the day's counter from PostgreSQL; False when another process already did.

    Calls in flight are in the log already (written before the call, at their reservation),
    so the rebuilt counter holds them as spent: stricter, never looser.
    """
    totals = spend.day_totals(settings, day)
    total = totals.get(DAY, 0)
    budget = to_units(settings.squad_daily_budget_usd)
    # Levels already crossed were alerted (or should have been) before the counter was lost.
    crossed = [str(level) for level in ALERT_LEVELS if budget and total * 100 >= level * budget]
    created = _run(settings, day, "init", DAY_TTL_S, json.dumps(totals), ",".join(crossed))
    return bool(created)


def reserve(
    settings: Settings, hold_id: str, usd: float, scopes: list[Scope], hold_s: float
) -> Reservation | Refusal:
    """Hold `usd` against every scope for one call, or say which scope refused and why."""
    day = today()
    units = to_units(usd, round_up=True)
    limits = [[s.name, to_units(s.limit_usd) if s.limit_usd is not None else -1] for s in scopes]
    now_ms = int(time.time() * 1000)
    result = _call(
        settings, day, "reserve", hold_id, units, now_ms + int(hold_s * 1000), now_ms,
        json.dumps(limits),
    )  # fmt: skip
    if result[0] == 1:
        return Reservation(day=day, hold_id=hold_id, units=units, scopes=[s.name for s in scopes])
    status, index, spent, reserved, limit, alerted = result[:6]
    scope = scopes[index - 1]
    left = max(0, limit - spent) / UNITS_PER_USD
    if status == 3:
        message = (
            f"{scope.label} budget is held by calls in flight: needs up to {usd_text(usd)}, "
            f"{usd_text(left)} unspent of {usd_text(limit / UNITS_PER_USD)}, "
            f"{usd_text(reserved / UNITS_PER_USD)} reserved"
        )
        return Refusal(error=BudgetBusyError(message, retry_after_s=1.0), alerted=bool(alerted))
    message = (
        f"{scope.label} budget cannot cover this call: needs up to {usd_text(usd)}, "
        f"{usd_text(left)} left of {usd_text(limit / UNITS_PER_USD)}"
    )
    return Refusal(error=BudgetExceededError(message), alerted=bool(alerted))


def usd_text(value: float) -> str:
    """Dollars for people: cents when they matter, else six decimals."""
    return f"${value:,.2f}" if value >= 1 or value == 0 else f"${value:.6f}"


def settle(settings: Settings, reservation: Reservation, actual_usd: float) -> Settlement:
    """Release the hold and charge the real cost; reports alert levels crossed now."""
    budget = to_units(settings.squad_daily_budget_usd)
    result = _call(
        settings, reservation.day, "settle", reservation.hold_id, to_units(actual_usd), budget,
        *ALERT_LEVELS,
    )  # fmt: skip
    return Settlement(
        spent_usd=result[1] / UNITS_PER_USD,
        reserved_usd=result[2] / UNITS_PER_USD,
        crossed=result[3:] if result[0] == 1 else [],
        known=result[0] == 1,
    )


def release(settings: Settings, reservation: Reservation) -> Settlement:
    """Give a reservation back unused (the call failed before costing anything)."""
    return settle(settings, reservation, 0.0)


def budget_status(settings: Settings) -> BudgetStatus:
    """Today's spend, reservations and what is left, rebuilding the counter if it was lost."""
    day = today()
    client = pooled.redis_client(settings)
    key, holds = day_keys(settings, day)
    rebuilt = False
    try:
        if not client.hexists(key, "ready"):
            rebuilt = rebuild(settings, day)
        pipe = client.pipeline(transaction=False)
        pipe.hgetall(key)
        pipe.zcard(holds)
        raw, in_flight = pipe.execute()
    except pooled.REDIS_DOWN as exc:
        raise pooled.redis_unreachable(settings, exc) from exc
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return _status(settings, day, fields, int(in_flight), rebuilt)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _status(
    settings: Settings, day: date, fields: dict[str, str], in_flight: int, rebuilt: bool
) -> BudgetStatus:
    budget = settings.squad_daily_budget_usd
    groups: dict[str, dict[str, dict[str, float]]] = {"squad": {}, "caller": {}, "feature": {}}
    for name, value in fields.items():
        kind, _, scope = name.partition("|")
        group, _, member = scope.partition(":")
        if kind in ("s", "r") and group in groups and member:
            entry = groups[group].setdefault(member, {"spent_usd": 0.0, "reserved_usd": 0.0})
            entry["spent_usd" if kind == "s" else "reserved_usd"] = int(value) / UNITS_PER_USD
    spent = int(fields.get(f"s|{DAY}", 0)) / UNITS_PER_USD
    reserved = int(fields.get(f"r|{DAY}", 0)) / UNITS_PER_USD
    return BudgetStatus(
        day=day,
        budget_usd=budget,
        spent_usd=spent,
        reserved_usd=reserved,
        remaining_usd=max(0.0, budget - spent - reserved),
        percent_used=round(100 * spent / budget, 2) if budget else 0.0,
        alerts_crossed=[level for level in ALERT_LEVELS if fields.get(f"alert:{level}")],
        squads=groups["squad"],
        callers=groups["caller"],
        features=groups["feature"],
        in_flight=in_flight,
        rebuilt=rebuilt,
    )
