"""`GET /v1/search`: hybrid (BM25 + dense) search over synced messages, tasks and transcripts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.search.search import Mode, SearchResults, build_filters, search
from sophia_cli.server.auth import requires, server_state

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[requires(Scope.ASK)])


@router.get("/search", response_model=SearchResults, summary="Search synced text (search --json)")
async def search_text(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=500, description="The words to find.")],
    mode: Annotated[Mode, Query(description="hybrid (default), bm25 or dense.")] = "hybrid",
    source: Annotated[str | None, Query(description="slack, gong or asana")] = None,
    author: Annotated[str | None, Query(description="Part of the author's name.")] = None,
    channel: Annotated[str | None, Query(description="Part of a Slack channel's name.")] = None,
    call: Annotated[str | None, Query(description="Part of a Gong call's title.")] = None,
    external: Annotated[bool, Query(description="Only people outside the company.")] = False,
    since: Annotated[date | None, Query(description="Only hits from this day on.")] = None,
    until: Annotated[date | None, Query(description="Only hits before this day.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchResults:
    settings = server_state(request).settings
    filters = build_filters(source=source, author=author, channel=channel, call=call,
                            since=since, until=until, external_only=external)  # fmt: skip
    return await run_in_threadpool(
        lambda: search(settings, q, mode=mode, filters=filters, limit=limit)
    )
