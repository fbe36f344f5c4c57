"""Admin routes over the foundation: the doctor report and the stores' status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.db.models import DbStatus
from sophia_cli.core.db.status import db_status
from sophia_cli.core.doctor.models import DoctorReport
from sophia_cli.core.doctor.runner import run_checks
from sophia_cli.server.auth import requires, server_state

router = APIRouter(prefix="/v1", tags=["admin"], dependencies=[requires(Scope.ADMIN)])


@router.get("/doctor", response_model=DoctorReport, summary="Every doctor check (sophia doctor)")
async def doctor(request: Request) -> DoctorReport:
    return await run_in_threadpool(run_checks, server_state(request).settings)


@router.get("/db/status", response_model=DbStatus, summary="Status of every store (db status)")
async def status(request: Request) -> DbStatus:
    return await run_in_threadpool(db_status, server_state(request).settings)
