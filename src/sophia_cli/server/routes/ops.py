"""Operations routes, open to probes and scrapers: /health, /ready, /metrics."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from sophia_cli import __version__
from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.doctor.models import DoctorReport
from sophia_cli.core.doctor.registry import registered
from sophia_cli.core.doctor.runner import run_checks
from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.server.auth import admit, bearer_scheme, server_state

if TYPE_CHECKING:
    from sophia_cli.server.state import ServerState

router = APIRouter(tags=["operations"])

READINESS_TTL_S = 5.0
PROBE_THREADS = 2


class Health(BaseModel):
    status: str
    version: str


# Checks whose failure slows the API down without stopping it: the answer cache and the
# rate-limit windows live in Redis, and both are skipped while it is away. A load balancer
# must not pull every replica out for a cache outage.
DEGRADABLE_CHECKS = frozenset({"redis"})


class Readiness(BaseModel):
    ready: bool
    status: Literal["ready", "degraded"] = "ready"
    degraded: list[str] = Field(default_factory=list, description="Failed optional stores.")
    report: DoctorReport


@router.head("/health", include_in_schema=False)
@router.get("/health", response_model=Health, summary="Alive (touches no dependency)")
async def health() -> Health:
    """Answers as long as the process serves requests; used by liveness probes."""
    return Health(status="ok", version=__version__)


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Ready: the doctor's checks, 503 when a required one fails",
    responses={503: {"description": "A required check failed (error body plus the report)."}},
)
async def ready(request: Request) -> Any:
    """Run the doctor's required checks; 503 when one failed, 200 "degraded" when only
    Redis did (the API answers without its cache).

    Only required checks run (stores and configuration): the informative ones call outside
    APIs or scan files, which a probe every few seconds must not do. A report younger than
    READINESS_TTL_S is reused.
    """
    report = await _readiness_report(server_state(request))
    failed = [c.name for c in report.checks if c.required and c.status.value == "fail"]
    degraded = [name for name in failed if name in DEGRADABLE_CHECKS]
    failed = [name for name in failed if name not in DEGRADABLE_CHECKS]
    if failed:
        error = ServiceUnavailableError(
            f"not ready: {', '.join(failed)} failed",
            hint="See `report` or run `sophia doctor` on the host.",
        )
        body = error.to_dict() | {"report": report.model_dump(mode="json")}
        return JSONResponse(body, status_code=error.http_status)
    if degraded:
        return Readiness(ready=True, status="degraded", degraded=degraded, report=report)
    return Readiness(ready=True, report=report)


async def _readiness_report(state: ServerState) -> DoctorReport:
    now = time.monotonic()
    if state.readiness is not None and now - state.readiness[0] < READINESS_TTL_S:
        return state.readiness[1]
    required = [check for check in registered() if check.required]
    # Its own threads: a worker whose shared pool is busy with slow queries still answers.
    if state.probe_threads is None:
        state.probe_threads = CapacityLimiter(PROBE_THREADS)
    report = await to_thread.run_sync(
        run_checks, state.settings, required, limiter=state.probe_threads
    )
    # Its age counts from when it was made: checks that took seconds (a cold embedded
    # Milvus start on a loaded machine) must not leave a report that is stale at once.
    state.readiness = (time.monotonic(), report)
    return report


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format; admin-scoped in production unless on SOPHIA_METRICS_PORT."""
    state = server_state(request)
    if state.settings.is_production and state.ports.metrics is None:
        await admit(request, await bearer_scheme(request), Scope.ADMIN)
    from prometheus_client import CONTENT_TYPE_LATEST

    from sophia_cli.server import warehouse_metrics

    warehouse = await to_thread.run_sync(warehouse_metrics.exposition, state.settings)
    return Response(state.metrics.exposition() + warehouse, media_type=CONTENT_TYPE_LATEST)
