"""The books of one attempt: reserve, write the row, call, then close the row and settle.

Order matters, because the provider's invoice is the truth we must never fall below:
1. reserve the worst case in Redis (refused: no call);
2. write the spend row at that reservation, outcome `pending` (no row: no call);
3. the caller makes the call;
4. write the row's real cost (or, for a call that timed out or was cut, keep the
   reservation as an estimate to reconcile), then settle Redis to the same figure.
A settle that fails leaves the row; a row update that fails keeps the reservation in both.
These functions block (PostgreSQL, Redis): the async router runs them in a worker thread,
and calls them directly when it is being cancelled so they cannot be interrupted.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field

from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import alerts, budget, spend
from sophia_cli.core.squad.budget import Refusal, Reservation, Scope
from sophia_cli.core.squad.models import SquadsConfig
from sophia_cli.core.squad.request import CallContext, Observer

log = logging.getLogger("sophia.squad")


@dataclass
class Ticket:
    """An attempt whose money is held and whose row is written: close it exactly once."""

    reservation: Reservation
    row_id: int
    row: spend.CallRow
    observer: Observer | None = None
    closed: bool = field(default=False)
    lock: threading.Lock = field(default_factory=threading.Lock)


def scopes(
    settings: Settings, config: SquadsConfig, squad: str, context: CallContext
) -> list[Scope]:
    """Every budget a call of this squad, caller and feature is held against (the day first)."""
    found = [
        Scope(budget.DAY, settings.squad_daily_budget_usd, "today's"),
        Scope(f"squad:{squad}", config.squads[squad].daily_budget_usd, f"squad {squad}'s"),
    ]
    if context.caller:
        limits = config.budgets.callers
        limit = limits.get(context.caller, limits.get("default"))
        found.append(Scope(f"caller:{context.caller}", limit, f"caller {context.caller}'s"))
    if context.feature:
        limits = config.budgets.features
        limit = limits.get(context.feature, limits.get("default"))
        found.append(Scope(f"feature:{context.feature}", limit, f"feature {context.feature}'s"))
    return found


def open_attempt(
    settings: Settings,
    config: SquadsConfig,
    context: CallContext,
    reserve_usd: float,
    row: spend.CallRow,
) -> Ticket | Refusal:
    """Hold the money and write the pending row, or say why the budget refused."""
    assert row.squad is not None
    held = budget.reserve(
        settings,
        uuid.uuid4().hex,
        reserve_usd,
        scopes(settings, config, row.squad, context),
        config.router.hold_s,
    )
    if isinstance(held, Refusal):
        if held.alerted:
            status = budget.budget_status(settings)
            alerts.enqueue(settings, status.day, [100], status.spent_usd, refused=True)
        return held
    row.reserved_units = held.units
    row.cost_units = held.units
    row.outcome = "pending"
    row.estimated = True
    try:
        row_id = spend.open_call(settings, row)
    except ServiceUnavailableError:
        budget.release(settings, held)
        raise
    return Ticket(reservation=held, row_id=row_id, row=row, observer=context.observer)


def close(settings: Settings, ticket: Ticket, row: spend.CallRow) -> budget.Settlement | None:
    """Write the row's outcome and cost, then settle Redis to what the row says."""
    with ticket.lock:
        if ticket.closed:
            return None
        ticket.closed = True
    row.reserved_units = ticket.reservation.units
    written = spend.close_call(settings, ticket.row_id, row)
    # If the row could not be updated it still holds the reservation: Redis charges the same.
    charged = row.cost_units if written else ticket.reservation.units
    try:
        settlement = budget.settle(settings, ticket.reservation, charged / budget.UNITS_PER_USD)
    except ServiceUnavailableError as exc:
        # The row is written: a counter rebuilt from the log will include this call.
        log.warning("budget settle failed for request %s: %s", row.request_id, exc.message)
        return None
    if ticket.observer is not None:
        left = settings.squad_daily_budget_usd - settlement.spent_usd - settlement.reserved_usd
        ticket.observer.budget(max(0.0, left))
    if settlement.crossed:
        alerts.enqueue(settings, ticket.reservation.day, settlement.crossed, settlement.spent_usd)
    return settlement


def charge_estimate(
    settings: Settings, ticket: Ticket, outcome: spend.Outcome, error: str, latency_ms: int
) -> budget.Settlement | None:
    """Close an attempt the provider may have billed without telling us: at its reservation."""
    row = ticket.row.model_copy(
        update={
            "outcome": outcome,
            "error": error,
            "cost_units": ticket.reservation.units,
            "estimated": True,
            "latency_ms": latency_ms,
        }
    )
    return close(settings, ticket, row)


def release(
    settings: Settings, ticket: Ticket, outcome: spend.Outcome, error: str, latency_ms: int
) -> budget.Settlement | None:
    """Close an attempt the provider refused before generating anything: it cost nothing."""
    row = ticket.row.model_copy(
        update={
            "outcome": outcome,
            "error": error,
            "cost_units": 0,
            "estimated": False,
            "latency_ms": latency_ms,
        }
    )
    return close(settings, ticket, row)
