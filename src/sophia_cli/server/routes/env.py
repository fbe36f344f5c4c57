"""`GET /v1/env/check`: the layered configuration of the server's directory (env check)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.env.check import EnvReport, check_environment
from sophia_cli.server import served_directory
from sophia_cli.server.auth import requires

router = APIRouter(prefix="/v1/env", tags=["env"], dependencies=[requires(Scope.ADMIN)])


@router.get("/check", response_model=EnvReport, summary="Check the configuration (env check)")
async def check() -> EnvReport:
    """Every layer of the server's project folder, secrets masked, as `env check --json`."""
    return await run_in_threadpool(check_environment, served_directory())
