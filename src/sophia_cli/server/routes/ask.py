"""`POST /v1/ask` (a question in plain language) and `POST /v1/query` (guarded SQL)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.bi.answer import Answer
from sophia_cli.core.bi.ask import ask as ask_question
from sophia_cli.core.bi.execute import QueryResult, run_query
from sophia_cli.server.auth import guard, server_state

router = APIRouter(prefix="/v1", tags=["ask"])


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000, examples=["revenue last quarter"])
    as_of: date | None = Field(default=None, description="Pin 'today' for reproducible answers.")
    use_cache: bool = Field(default=True, description="false recomputes the answer.")


class QueryRequest(BaseModel):
    sql: str = Field(min_length=1, max_length=20000, examples=["SELECT name FROM hubspot.deals"])
    limit: int | None = Field(default=None, ge=1, le=10000)


@router.post(
    "/ask",
    response_model=Answer,
    summary="Answer a business question (ask --json)",
    dependencies=[Depends(guard(Scope.ASK))],
)
async def ask(request: Request, body: AskRequest) -> Answer:
    settings = server_state(request).settings
    return await run_in_threadpool(
        lambda: ask_question(settings, body.question, body.as_of, use_cache=body.use_cache)
    )


@router.post(
    "/query",
    response_model=QueryResult,
    summary="Run one guarded, read-only SELECT",
    dependencies=[Depends(guard(Scope.QUERY))],
)
async def query(request: Request, body: QueryRequest) -> QueryResult:
    settings = server_state(request).settings
    return await run_in_threadpool(lambda: run_query(settings, body.sql, limit=body.limit))
