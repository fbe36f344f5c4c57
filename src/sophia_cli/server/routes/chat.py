"""The OpenAI-compatible face of the squad: chat completions, models and embeddings.

Existing OpenAI clients (the official SDKs, LangChain's ChatOpenAI) point their base URL at
sophia and keep working: `model` is `auto` (the squad picks), a squad, a deployment or a
model id; every OpenAI parameter is forwarded or refused with a 400 naming it; streams are
Server-Sent Events with `stream_options.include_usage`. The caller (the token's `sub`) and
an optional `X-Sophia-Feature` tag are budgeted and written to the spend log.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.requests import ClientDisconnect

from sophia_cli.core.auth.tokens import Scope, TokenClaims
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.squad import embeddings
from sophia_cli.core.squad import request as squad_request
from sophia_cli.core.squad.catalog import model_ids
from sophia_cli.core.squad.plan import ModelNotFoundError
from sophia_cli.core.squad.request import CallContext, ParameterError
from sophia_cli.core.squad.results import Completion, EmbeddingResult
from sophia_cli.core.squad.router import acomplete
from sophia_cli.core.squad.stream import CompletionStream, astream
from sophia_cli.server.auth import guard, server_state

router = APIRouter(prefix="/v1", tags=["squad"])
Claims = Depends(guard(Scope.SQUAD))
FEATURE_HEADER = "x-sophia-feature"
_MESSAGE_KEYS = ("role", "content", "tool_calls", "function_call", "refusal", "annotations")


class ChatRequest(BaseModel):
    """The OpenAI chat request (documentation: the body is parsed by core, field by field)."""

    model_config = ConfigDict(extra="allow")

    model: str = "auto"
    messages: list[dict[str, Any]]
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    stream: bool | None = None
    stream_options: dict[str, Any] | None = None
    use_cache: bool | None = None


class ChatCompletion(BaseModel):
    """An OpenAI `chat.completion` object, plus what sophia decided in `sophia`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, Any]
    sophia: dict[str, Any]


class EmbeddingsRequest(BaseModel):
    """The OpenAI embeddings request (documentation)."""

    model: str = "auto"
    input: str | list[str]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = None
    user: str | None = None


def _documented(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ClientDisconnect as exc:  # the caller gave up while its request was queued
        raise ParameterError("body", "the client went away before sending its body") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParameterError("body", "the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ParameterError("body", "the request body must be a JSON object")
    return body


def _context(request: Request, claims: TokenClaims) -> CallContext:
    feature = request.headers.get(FEATURE_HEADER)
    if feature is not None and not squad_request.FEATURE_PATTERN.match(feature):
        raise ParameterError(
            FEATURE_HEADER,
            "X-Sophia-Feature must be 1-64 letters, digits, dots, colons, dashes or underscores",
        )
    state = server_state(request)
    return CallContext(caller=claims.sub, feature=feature, observer=state.metrics.squad)


@router.post(
    "/chat/completions",
    summary="OpenAI-compatible chat, routed through the squad (streaming too)",
    response_model=ChatCompletion,
    openapi_extra=_documented(ChatRequest),
)
async def chat_completions(request: Request, claims: TokenClaims = Claims) -> Response:
    chat = squad_request.from_openai(await _body(request))
    if "no-cache" in request.headers.get("cache-control", "").lower():
        chat.use_cache = False
    context = _context(request, claims)
    metrics = server_state(request).metrics.squad
    try:
        if chat.stream:
            stream = await astream(server_state(request).settings, chat, context)
            metrics.served(stream.record.cache_hit, None, None)
            return EventStream(stream)
        completion = await acomplete(server_state(request).settings, chat, context)
    except SophiaError as exc:
        metrics.refused(exc.code)
        raise
    metrics.served(completion.cache_hit, completion.model, completion.cost_usd)
    return JSONResponse(_as_openai(completion), headers=_headers(completion))


def _headers(completion: Completion) -> dict[str, str]:
    return {
        "x-sophia-request-id": completion.request_id,
        "x-sophia-deployment": f"{completion.squad}/{completion.deployment}",
        "x-sophia-cost-usd": f"{completion.cost_usd:.8f}",
    }


def _as_openai(completion: Completion) -> dict[str, Any]:
    choices = []
    for choice in completion.choices:
        message = choice.get("message") or {}
        choices.append(
            {
                "index": choice.get("index", 0),
                "message": {k: message[k] for k in _MESSAGE_KEYS if message.get(k) is not None},
                "finish_reason": choice.get("finish_reason"),
                "logprobs": choice.get("logprobs"),
            }
        )
    return {
        "id": f"chatcmpl-{completion.request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": completion.upstream_model or completion.model,
        "system_fingerprint": completion.system_fingerprint,
        "choices": choices,
        "usage": completion.usage,
        "sophia": {
            "squad": completion.squad,
            "deployment": completion.deployment,
            "cost_usd": completion.cost_usd,
            "cache_hit": completion.cache_hit,
            "latency_ms": completion.latency_ms,
            "request_id": completion.request_id,
        },
    }


class EventStream(StreamingResponse):
    """Server-Sent Events of one completion stream, whose books close however it ends."""

    def __init__(self, stream: CompletionStream) -> None:
        self.stream = stream
        headers = {
            "cache-control": "no-cache",
            "x-sophia-request-id": stream.record.request_id,
            "x-sophia-deployment": stream.record.chosen or "",
        }
        super().__init__(_events(stream), media_type="text/event-stream", headers=headers)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # A client that went away cancels the send loop; the books still close, at the
            # reservation (the provider may have generated the rest anyway).
            self.stream.finish()


async def _events(stream: CompletionStream) -> Any:
    async for chunk in stream.chunks():
        yield b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"
        if "error" in chunk:
            return
    yield b"data: [DONE]\n\n"


@router.get("/models", summary="What `model` may name: auto, squads, deployments")
async def list_models(request: Request, claims: TokenClaims = Claims) -> dict[str, Any]:
    created = int(time.time())
    data = [
        {"id": name, "object": "model", "created": created, "owned_by": owner}
        for name, owner in model_ids(server_state(request).settings)
    ]
    return {"object": "list", "data": data}


@router.get("/models/{model_id:path}", summary="One model `model` may name")
async def get_model(model_id: str, request: Request, claims: TokenClaims = Claims) -> Any:
    for name, owner in model_ids(server_state(request).settings):
        if name == model_id:
            return {"id": name, "object": "model", "created": int(time.time()), "owned_by": owner}
    raise ModelNotFoundError(f"model `{model_id}` is not served here", hint="See GET /v1/models.")


@router.post(
    "/embeddings",
    summary="OpenAI-compatible embeddings, routed through the squad",
    openapi_extra=_documented(EmbeddingsRequest),
)
async def create_embeddings(request: Request, claims: TokenClaims = Claims) -> Response:
    wanted = embeddings.from_openai(await _body(request))
    context = _context(request, claims)
    result = await embeddings.aembed(server_state(request).settings, wanted, context)
    server_state(request).metrics.squad.served(False, result.model, result.cost_usd)
    return JSONResponse(_embeddings_body(result, wanted.encoding_format))


def _embeddings_body(result: EmbeddingResult, encoding: str) -> dict[str, Any]:
    def encoded(vector: list[float]) -> Any:
        if encoding != "base64":
            return vector
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()

    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": encoded(vector)}
            for i, vector in enumerate(result.vectors)
        ],
        "model": result.upstream_model or result.model,
        "usage": {"prompt_tokens": result.tokens_in, "total_tokens": result.tokens_in},
        "sophia": {
            "squad": result.squad,
            "deployment": result.deployment,
            "cost_usd": result.cost_usd,
            "request_id": result.request_id,
        },
    }
