"""Squad routes: today's budgets, the spend report and the savings report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.squad.budget import budget_status
from sophia_cli.core.squad.reports import savings_report, spend_report
from sophia_cli.core.squad.results import BudgetStatus, SavingsReport, SpendReport
from sophia_cli.server.auth import requires, server_state

router = APIRouter(prefix="/v1/squad", tags=["squad"], dependencies=[requires(Scope.SQUAD)])
Days = Annotated[int, Query(ge=1, le=366)]


@router.get("/budget", response_model=BudgetStatus, summary="Today's budgets (squad budget)")
async def budget(request: Request) -> BudgetStatus:
    return await run_in_threadpool(budget_status, server_state(request).settings)


@router.get("/spend", response_model=SpendReport, summary="Spend by model, squad, day, caller…")
async def spend(
    request: Request,
    days: Days = 7,
    by: Literal["model", "squad", "day", "caller", "feature"] = "model",
) -> SpendReport:
    return await run_in_threadpool(spend_report, server_state(request).settings, days, by)


@router.get("/savings", response_model=SavingsReport, summary="Savings against the baseline")
async def savings(request: Request, days: Days = 30) -> SavingsReport:
    return await run_in_threadpool(savings_report, server_state(request).settings, days)
