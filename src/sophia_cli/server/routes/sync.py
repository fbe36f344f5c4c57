"""Sync routes: start a sync in the background, follow it, and the sources' status."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.errors import InputError, NotFoundError, SophiaError
from sophia_cli.core.sync.models import RunStatus, SyncReport, SyncStatus
from sophia_cli.core.sync.run import new_run_id, run_sync
from sophia_cli.core.sync.status import sync_status
from sophia_cli.server.auth import requires, server_state
from sophia_cli.server.state import ServerState
from sophia_cli.store.jobs import load_job, save_job

router = APIRouter(prefix="/v1/sync", tags=["sync"], dependencies=[requires(Scope.SYNC)])
log = logging.getLogger("sophia.server")
JOB_KIND = "sync"


class SyncRequest(BaseModel):
    sources: list[str] | None = Field(default=None, description="Default: every configured one.")
    full: bool = False
    since: date | None = None


class SyncJob(BaseModel):
    """A sync started through the API; `report` is set when it has finished."""

    run_id: str
    state: Literal["running", "finished", "failed", "interrupted"]
    started_at: datetime
    finished_at: datetime | None = None
    request: SyncRequest
    report: SyncReport | None = None
    error: dict[str, Any] | None = None


@router.post("", response_model=SyncJob, status_code=202, summary="Start a sync in the background")
async def start(request: Request, body: SyncRequest) -> SyncJob:
    """Returns at once with a run id; follow it at `GET /v1/sync/runs/{run_id}`."""
    _refuse_unknown_sources(body.sources or [])
    state = server_state(request)
    job = SyncJob(run_id=new_run_id(), state="running", started_at=datetime.now(UTC), request=body)
    await run_in_threadpool(_save, state, job)
    state.spawn(_run(state, job), name=f"sync-{job.run_id}")
    return job


@router.get("/runs/{run_id}", response_model=SyncJob, summary="One sync started through the API")
async def run_status(request: Request, run_id: str) -> SyncJob:
    record = await run_in_threadpool(load_job, server_state(request).settings, JOB_KIND, run_id)
    if record is None:
        raise NotFoundError(f"no sync run {run_id!r}", hint="Runs are kept for 7 days.")
    return SyncJob.model_validate(record)


@router.get("/status", response_model=SyncStatus, summary="Every source's bookmarks (sync status)")
async def status(request: Request) -> SyncStatus:
    return await run_in_threadpool(sync_status, server_state(request).settings)


def _refuse_unknown_sources(names: list[str]) -> None:
    """422 before any job starts, naming the sources that exist."""
    from sophia_cli.core.sync.connectors import registry

    unknown = [name for name in names if registry.find(name) is None]
    if unknown:
        known = ", ".join(connector.name for connector in registry.all())
        raise InputError(
            f"unknown sync source: {', '.join(repr(name[:40]) for name in unknown[:5])}",
            hint=f"Sources are: {known}.",
        )


def _save(state: ServerState, job: SyncJob) -> None:
    save_job(state.settings, JOB_KIND, job.run_id, job.model_dump(mode="json"))


async def _run(state: ServerState, job: SyncJob) -> None:
    # The sync runs in a thread (it drives its own event loop). On shutdown the server waits
    # for it; the sync engine's bookmarks make an interrupted run resumable.
    body = job.request
    try:
        report = await asyncio.to_thread(
            run_sync,
            state.settings,
            body.sources,
            full=body.full,
            since=body.since,
            run_id=job.run_id,  # one id: the job, the report and sync_runs agree
        )
    except asyncio.CancelledError:
        # The server is shutting down (SIGTERM): say so rather than stay "running" for a
        # week. The sync's own bookmarks let the next run resume where this one stopped.
        job.state, job.finished_at = "interrupted", datetime.now(UTC)
        job.error = {"code": "interrupted", "message": "the server stopped during the sync"}
        await asyncio.to_thread(_save, state, job)
        raise
    except SophiaError as exc:
        job.state, job.error = "failed", exc.to_dict()["error"]
    except Exception as exc:  # a background job must record, not lose, its failure
        log.exception("background sync %s failed", job.run_id)
        from sophia_cli.core import errortracking

        errortracking.capture(exc, job=job.run_id)
        job.state, job.error = "failed", {"code": "error", "message": type(exc).__name__}
    else:
        job.state, job.report = "finished", report
        _count(state, report)
    job.finished_at = datetime.now(UTC)
    await asyncio.to_thread(_save, state, job)


def _count(state: ServerState, report: SyncReport) -> None:
    for source in report.sources:
        rows = sum(s.inserted + s.updated + s.deleted for s in source.streams)
        state.metrics.sync_rows.labels(source.source).inc(rows)
        if source.status is RunStatus.FAILED:
            state.metrics.sync_failures.labels(source.source).inc()
