"""Squad routes: today's budget, the spend report, and OpenAI-compatible chat completions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.squad.budget import budget_status
from sophia_cli.core.squad.models import BudgetStatus, SpendReport
from sophia_cli.core.squad.spend import spend_report
from sophia_cli.server.auth import requires, server_state

router = APIRouter(prefix="/v1/squad", tags=["squad"], dependencies=[requires(Scope.SQUAD)])


@router.get("/budget", response_model=BudgetStatus, summary="Today's budget (squad budget)")
async def budget(request: Request) -> BudgetStatus:
    return await run_in_threadpool(budget_status, server_state(request).settings)


@router.get("/spend", response_model=SpendReport, summary="Spend by model, squad or day")
async def spend(
    request: Request,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
    by: Literal["model", "squad", "day"] = "model",
) -> SpendReport:
    return await run_in_threadpool(spend_report, server_state(request).settings, days, by)
