"""Routes the BI page calls beyond `POST /v1/ask`: who am I, suggestions as you type, the
full result as CSV, the data version with each source's freshness, and pinned questions
(always the token's own subject's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope, TokenClaims
from sophia_cli.core.bi.freshness import DataVersion, data_version
from sophia_cli.core.bi.pins import Pin, Pins, add_pin, list_pins, remove_pin
from sophia_cli.core.bi.typeahead import Suggestions, suggest
from sophia_cli.server.auth import guard, requires, server_state
from sophia_cli.server.routes.ask import AskRequest

router = APIRouter(prefix="/v1", tags=["bi"])
SignedIn = Annotated[TokenClaims, Depends(guard(None))]
Asker = Annotated[TokenClaims, Depends(guard(Scope.ASK))]
PinId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The id GET /v1/pins gave.")]


class Me(BaseModel):
    """Who the bearer token speaks for; `admin` allows every route."""

    subject: str
    scopes: list[Scope]
    expires_at: int


@router.get("/me", response_model=Me, summary="The token's subject, scopes and expiry")
async def me(claims: SignedIn) -> Me:
    return Me(subject=claims.sub, scopes=claims.scopes, expires_at=claims.expires_at)


@router.get(
    "/ask/suggest",
    response_model=Suggestions,
    summary="Metrics, dimensions, example questions and names matching what is typed",
    dependencies=[requires(Scope.ASK)],
)
async def ask_suggest(
    request: Request,
    q: Annotated[str, Query(max_length=200, description="What has been typed so far.")] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Suggestions:
    return await run_in_threadpool(suggest, server_state(request).settings, q, limit)


@router.post(
    "/ask.csv",
    summary="The full result of a question as CSV (ask --csv)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "Every row, headers in words."}},
    dependencies=[requires(Scope.ASK)],
)
async def ask_csv(request: Request, body: AskRequest) -> Response:
    from sophia_cli.core.bi import export
    from sophia_cli.core.bi.ask import ask
    from sophia_cli.core.bi.semantic import layer_for

    settings = server_state(request).settings
    answer = await run_in_threadpool(
        lambda: ask(settings, body.question, body.as_of, use_cache=body.use_cache)
    )
    name = export.filename(body.question)
    return Response(
        export.delimited(layer_for(settings), answer),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/data-version",
    response_model=DataVersion,
    summary="The data version (changes with every sync that writes) and each source's freshness",
    dependencies=[requires(Scope.ASK)],
)
async def get_data_version(request: Request) -> DataVersion:
    return await run_in_threadpool(data_version, server_state(request).settings)


class PinRequest(BaseModel):
    question: str = Field(examples=["won revenue by month this year"])
    title: str | None = Field(default=None, description="The card's title; default the question.")


@router.get("/pins", response_model=Pins, summary="Your pinned questions, in dashboard order")
async def get_pins(request: Request, claims: Asker) -> Pins:
    return await run_in_threadpool(list_pins, server_state(request).settings, claims.sub)


@router.post(
    "/pins",
    response_model=Pin,
    status_code=201,
    summary="Pin a question (201; the same question again: 200 with the pin already there)",
    responses={200: {"model": Pin, "description": "Already pinned."}},
)
async def post_pin(request: Request, body: PinRequest, claims: Asker) -> Response:
    settings = server_state(request).settings
    pin, created = await run_in_threadpool(add_pin, settings, claims.sub, body.question, body.title)
    return JSONResponse(pin.model_dump(mode="json"), status_code=201 if created else 200)


@router.delete(
    "/pins/{pin_id}",
    status_code=204,
    response_class=Response,
    summary="Unpin one of your questions (404 if it is not yours)",
)
async def delete_pin(request: Request, pin_id: PinId, claims: Asker) -> Response:
    await run_in_threadpool(remove_pin, server_state(request).settings, claims.sub, pin_id)
    return Response(status_code=204)
