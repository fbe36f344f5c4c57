"""Embeddings through the squad: routed, budgeted and logged like chat calls.

Deployments with the `embedding` capability answer; `model` pins one as for chat. The
reservation is the inputs' UTF-8 bytes (no tokenizer emits more tokens) at the input price.
Vectors are always asked for as floats; the HTTP face encodes base64 when a client wants it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import answers, books, llm, pricing
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.models import Deployment
from sophia_cli.core.squad.plan import Demand, plan
from sophia_cli.core.squad.request import AUTO, CallContext, CompletionRequest, ParameterError
from sophia_cli.core.squad.results import Candidate, EmbeddingResult
from sophia_cli.core.squad.router import Attempts

MAX_INPUTS = 2048
_KNOWN = frozenset({"model", "input", "encoding_format", "dimensions", "user"})


class EmbeddingRequest(BaseModel):
    """Texts to embed, and how."""

    inputs: list[str] = Field(min_length=1, max_length=MAX_INPUTS)
    model: str = AUTO
    dimensions: int | None = Field(default=None, gt=0, le=16384)
    user: str | None = None
    encoding_format: Literal["float", "base64"] = "float"


def from_openai(body: dict[str, Any]) -> EmbeddingRequest:
    """An OpenAI embeddings body, or a ParameterError naming what is wrong."""
    for name in body:
        if name not in _KNOWN:
            raise ParameterError(name, f"unknown parameter {name}")
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs or len(inputs) > MAX_INPUTS:
        raise ParameterError("input", f"input must be a string or a list of 1 to {MAX_INPUTS}")
    if not all(isinstance(item, str) for item in inputs):
        raise ParameterError(
            "input", "input must be text: token-id arrays are not supported", hint="Send strings."
        )
    if any(not item for item in inputs):
        raise ParameterError("input", "input must not contain empty strings")
    model = body.get("model", AUTO)
    encoding = body.get("encoding_format") or "float"
    dimensions = body.get("dimensions")
    if not isinstance(model, str) or encoding not in ("float", "base64"):
        raise ParameterError("encoding_format", "encoding_format must be float or base64")
    if dimensions is not None and (not isinstance(dimensions, int) or isinstance(dimensions, bool)):
        raise ParameterError("dimensions", "dimensions must be an integer")
    return EmbeddingRequest(
        inputs=inputs, model=model, dimensions=dimensions, user=body.get("user"),
        encoding_format=encoding,
    )  # fmt: skip


async def aembed(
    settings: Settings, request: EmbeddingRequest, context: CallContext | None = None
) -> EmbeddingResult:
    """Vectors for every input from the cheapest (or the pinned) embedding deployment."""
    started = time.perf_counter()
    context = context or CallContext()
    config = load_squads(settings)
    bound = pricing.text_tokens_bound(request.inputs)
    demand = Demand(
        capabilities=["embedding"], estimated_in=max(1, bound // 4), max_in=bound, max_out=0,
        choices=1, unsupported=lambda target: [],
    )  # fmt: skip
    # The plan only reads `model` from a chat request; the demand says what is needed.
    routing = CompletionRequest(messages=[{"role": "user", "content": ""}], model=request.model)
    record = await asyncio.to_thread(plan, settings, config, routing, uuid.uuid4().hex, demand)
    record.kind = "embedding"
    params: dict[str, Any] = {}
    if request.dimensions is not None:
        params["dimensions"] = request.dimensions
    if request.user is not None:
        params["user"] = request.user

    async def call(
        candidate: Candidate,
        deployment: Deployment,
        target: llm.Endpoint,
        ticket: books.Ticket,
        timeout_s: float,
    ) -> EmbeddingResult:
        response = await llm.aembed(target, request.inputs, params, timeout_s)
        usage = getattr(response, "usage", None)
        latency_ms = int((time.perf_counter() - started) * 1000)
        cost = await asyncio.to_thread(
            answers.settle_usage, settings, config, ticket, deployment, usage, None, latency_ms
        )
        data = sorted(answers.plain(getattr(response, "data", []) or []), key=_index)
        candidate.status = "chosen"
        record.chosen = f"{candidate.squad}/{candidate.deployment}"
        return EmbeddingResult(
            vectors=[[float(x) for x in item["embedding"]] for item in data],
            deployment=candidate.deployment,
            squad=candidate.squad,
            model=deployment.model,
            upstream_model=getattr(response, "model", None),
            tokens_in=answers.usage_counts(usage)[0],
            cost_usd=cost,
            request_id=record.request_id,
        )

    return await Attempts(settings, config, record, context, started).run(call)


def _index(item: dict[str, Any]) -> int:
    return int(item.get("index", 0))
