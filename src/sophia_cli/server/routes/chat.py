"""`POST /v1/chat/completions`: OpenAI-compatible, answered through the squad.

Existing OpenAI clients point their base URL at sophia and keep working: the squad picks
the cheapest capable deployment within budget. `model` may name a squad to pin it;
any other value (e.g. "auto" or a vendor model name) lets the router choose.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from sophia_cli.core.auth.tokens import Scope
from sophia_cli.core.errors import InputError
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.models import Completion, CompletionRequest
from sophia_cli.core.squad.router import complete
from sophia_cli.server.app import ServerState
from sophia_cli.server.auth import requires, server_state

router = APIRouter(prefix="/v1", tags=["squad"], dependencies=[requires(Scope.SQUAD)])


class ChatRequest(BaseModel):
    """The OpenAI chat request fields sophia honours; unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(default="auto", max_length=200)
    messages: list[dict[str, Any]] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, gt=0, le=200_000)
    max_completion_tokens: int | None = Field(default=None, gt=0, le=200_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    stream: bool = False


class ChatMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[Any] | None = None


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatMessage
    finish_reason: str = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    """An OpenAI `chat.completion` object, plus what sophia decided in `sophia`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    sophia: dict[str, Any]


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat, routed through the squad",
)
async def chat_completions(request: Request, body: ChatRequest) -> ChatCompletion:
    state = server_state(request)
    if body.stream:
        raise InputError("stream=true is not supported", hint="Send stream=false (the default).")
    completion = await run_in_threadpool(_complete, state, body)
    _count(state, completion)
    return _as_openai(completion)


def _complete(state: ServerState, body: ChatRequest) -> Completion:
    squads = load_squads(state.settings).squads
    squad = body.model if body.model in squads else None
    capabilities = ["chat", "tools"] if body.tools else ["chat"]
    request = CompletionRequest(
        messages=body.messages,
        capabilities=capabilities,
        max_tokens=body.max_completion_tokens or body.max_tokens or 512,
        temperature=body.temperature,
        response_format=body.response_format,
        tools=body.tools,
        squad=squad,
    )
    return complete(state.settings, request)


def _count(state: ServerState, completion: Completion) -> None:
    state.metrics.squad_calls.inc()
    if completion.cache_hit:
        state.metrics.squad_cache_hits.inc()
    state.metrics.squad_spend.labels(completion.model).inc(max(0.0, completion.cost_usd))


def _as_openai(completion: Completion) -> ChatCompletion:
    raw = completion.raw_message or {}
    tool_calls = raw.get("tool_calls") or None
    return ChatCompletion(
        id=f"chatcmpl-{completion.request_id}",
        created=int(time.time()),
        model=completion.model,
        choices=[
            ChatChoice(
                message=ChatMessage(content=completion.text, tool_calls=tool_calls),
                finish_reason="tool_calls" if tool_calls else "stop",
            )
        ],
        usage=Usage(
            prompt_tokens=completion.tokens_in,
            completion_tokens=completion.tokens_out,
            total_tokens=completion.tokens_in + completion.tokens_out,
        ),
        sophia={
            "squad": completion.squad,
            "deployment": completion.deployment,
            "cost_usd": completion.cost_usd,
            "cache_hit": completion.cache_hit,
            "latency_ms": completion.latency_ms,
        },
    )
