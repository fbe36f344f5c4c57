"""Turn a model's response or a cache hit into a Completion: settle, log, cache, alert."""

from __future__ import annotations

import time
from typing import Any

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import alerts, budget, cache, llm, pricing, spend
from sophia_cli.core.squad.models import (
    Candidate,
    Completion,
    CompletionRequest,
    Deployment,
    RoutingRecord,
)


def from_response(
    settings: Settings,
    record: RoutingRecord,
    candidate: Candidate,
    deployment: Deployment,
    request: CompletionRequest,
    held: budget.Reservation,
    response: Any,
    started: float,
) -> Completion:
    price = pricing.price_for(deployment)
    assert price is not None  # plan() skips unpriced deployments
    tokens_in, tokens_out = llm.usage_of(response)
    if tokens_in is None or tokens_out is None:
        # No usage reported: charge the worst case we reserved rather than guess low.
        cost_units, tokens_in, tokens_out = held.units, tokens_in or 0, tokens_out or 0
    else:
        cost_units = budget.to_units(price.cost(tokens_in, tokens_out))
    settlement = budget.settle(settings, held, cost_units / budget.UNITS_PER_USD)
    latency_ms = int((time.perf_counter() - started) * 1000)
    text, raw = llm.message_of(response)
    answer = cache.CachedAnswer(
        text=text,
        squad=candidate.squad,
        deployment=candidate.deployment,
        model=deployment.model,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        raw_message=raw,
    )
    _log(
        settings,
        record,
        answer,
        latency_ms,
        cost_units=cost_units,
        reserved_units=held.units,
        outcome="ok",
    )
    if settlement.crossed:
        alerts.notify(settings, settlement.crossed, settlement.spent_usd)
    if request.use_cache:
        cache.store(settings, request, answer)
    candidate.status = "chosen"
    record.chosen = f"{candidate.squad}/{candidate.deployment}"
    return _completion(answer, record, cost_units / budget.UNITS_PER_USD, latency_ms)


def from_cache(
    settings: Settings, record: RoutingRecord, hit: cache.CachedAnswer, started: float
) -> Completion:
    latency_ms = int((time.perf_counter() - started) * 1000)
    record.cache_hit, record.chosen = True, f"cache ({hit.squad}/{hit.deployment})"
    _log(settings, record, hit, latency_ms, cache_hit=True, outcome="cache_hit")
    return _completion(hit, record, 0.0, latency_ms)


def _log(
    settings: Settings,
    record: RoutingRecord,
    answer: cache.CachedAnswer,
    latency_ms: int,
    **row: Any,
) -> None:
    """One spend-log row for an answered call (fresh or from the cache)."""
    spend.record(
        settings,
        spend.CallRow(
            request_id=record.request_id,
            squad=answer.squad,
            deployment=answer.deployment,
            model=answer.model,
            tokens_in=answer.tokens_in,
            tokens_out=answer.tokens_out,
            latency_ms=latency_ms,
            **row,
        ),
    )


def _completion(
    answer: cache.CachedAnswer, record: RoutingRecord, cost_usd: float, latency_ms: int
) -> Completion:
    return Completion(
        text=answer.text,
        deployment=answer.deployment,
        model=answer.model,
        squad=answer.squad,
        tokens_in=answer.tokens_in,
        tokens_out=answer.tokens_out,
        cost_usd=cost_usd,
        cache_hit=record.cache_hit,
        latency_ms=latency_ms,
        request_id=record.request_id,
        raw_message=answer.raw_message,
        routing=record,
    )


def log_failure(
    settings: Settings,
    record: RoutingRecord,
    candidate: Candidate,
    held: budget.Reservation,
    call_started: float,
    failure: llm.CallFailure,
) -> None:
    spend.record(
        settings,
        spend.CallRow(
            request_id=record.request_id,
            squad=candidate.squad,
            deployment=candidate.deployment,
            model=candidate.model,
            reserved_units=held.units,
            outcome="error",
            error=failure.message,
            latency_ms=int((time.perf_counter() - call_started) * 1000),
        ),
    )
