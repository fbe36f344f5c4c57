"""Run doctor checks concurrently, each bounded by its own timeout.

Each check runs in a daemon thread: a check stuck in a blocking call past its timeout is
reported as failed and abandoned, and cannot keep the process alive, so the whole run takes
about as long as the slowest timeout even when every service is down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from sophia_cli.core.doctor.models import CheckResult, DoctorReport, Outcome, Status, Summary, fail
from sophia_cli.core.doctor.registry import Check, registered
from sophia_cli.core.errors import SophiaError, UsageError
from sophia_cli.core.settings import Settings


class _Slot:
    def __init__(self) -> None:
        self.outcome: Outcome | None = None
        self.finished_at: float | None = None
        self.done = threading.Event()


def _run_one(check: Check, settings: Settings, slot: _Slot) -> None:
    try:
        slot.outcome = check.run(settings)
    except SophiaError as exc:
        slot.outcome = fail(exc.message)
    except Exception as exc:  # a broken check must not break the doctor
        slot.outcome = fail(f"{type(exc).__name__}: {exc}".splitlines()[0])
    finally:
        slot.finished_at = time.perf_counter()
        slot.done.set()


def run_checks(
    settings: Settings,
    checks: Iterable[Check] | None = None,
    *,
    categories: set[str] | None = None,
) -> DoctorReport:
    """Run checks (default: every registered one) at once and collect a report.

    An unknown category is a usage error naming the valid ones: a misspelt CI gate that
    selects nothing must not pass as "healthy".
    """
    available = list(checks) if checks is not None else registered()
    if categories is not None:
        _require_known(categories, available)
    selected = [c for c in available if categories is None or c.category in categories]
    started = time.perf_counter()
    slots = []
    for item in selected:
        slot = _Slot()
        thread = threading.Thread(
            target=_run_one, args=(item, settings, slot), name=f"doctor-{item.name}", daemon=True
        )
        began = time.perf_counter()  # before start(): a fast check may finish at once
        thread.start()
        slots.append((item, slot, began))
    results = [_collect(item, slot, began) for item, slot, began in slots]
    return DoctorReport(checks=results, summary=_summarise(results, started))


def _require_known(categories: set[str], available: list[Check]) -> None:
    known = list(dict.fromkeys(check.category for check in available))
    unknown = sorted(categories - set(known))
    if unknown:
        raise UsageError(
            f"unknown doctor categor{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}",
            hint=f"Valid categories: {', '.join(known)}.",
        )


def _collect(check: Check, slot: _Slot, began: float) -> CheckResult:
    remaining = check.timeout_s - (time.perf_counter() - began)
    finished = slot.done.wait(timeout=max(0.0, remaining))
    outcome = (
        slot.outcome
        if finished and slot.outcome is not None
        else fail(f"timed out after {check.timeout_s:g}s")
    )
    # A check that timed out took its timeout, however late its slot was collected.
    ended = slot.finished_at if finished and slot.finished_at else began + check.timeout_s
    return CheckResult(
        name=check.name,
        category=check.category,
        status=outcome.status,
        detail=outcome.detail,
        duration_ms=max(0, round((ended - began) * 1000)),
        required=check.required,
    )


def _summarise(results: list[CheckResult], started: float) -> Summary:
    def count(status: Status) -> int:
        return sum(1 for result in results if result.status is status)

    return Summary(
        ok=count(Status.OK),
        warn=count(Status.WARN),
        fail=count(Status.FAIL),
        skip=count(Status.SKIP),
        duration_ms=int((time.perf_counter() - started) * 1000),
        healthy=count(Status.FAIL) == 0,
    )
