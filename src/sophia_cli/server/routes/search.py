"""`GET /v1/search`: full-text (BM25) search over synced messages, tasks and transcripts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.search.search import SearchResults, search
from sophia_cli.server.auth import requires, server_state

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[requires(Scope.ASK)])


@router.get("/search", response_model=SearchResults, summary="Search synced text (search --json)")
async def search_text(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=500, description="The words to find.")],
    source: Annotated[str | None, Query(description="slack, asana, hubspot or gong")] = None,
    since: Annotated[date | None, Query(description="Only hits from this day on.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchResults:
    settings = server_state(request).settings
    return await run_in_threadpool(
        lambda: search(settings, q, source=source, since=since, limit=limit)
    )
