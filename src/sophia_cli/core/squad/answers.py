"""A provider's response (or a cache hit) as a Completion, with its books closed and logged."""

from __future__ import annotations

import logging
import time
from typing import Any

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import books, budget, cache, pricing, spend
from sophia_cli.core.squad.models import Deployment, SquadsConfig
from sophia_cli.core.squad.reports import baseline_price
from sophia_cli.core.squad.request import CallContext, CompletionRequest
from sophia_cli.core.squad.results import Candidate, Completion, RoutingRecord

log = logging.getLogger("sophia.squad")


def usage_counts(usage: Any) -> tuple[int, int, int]:
    """Prompt, completion and cached prompt tokens of a usage block (0 when absent)."""
    if usage is None:
        return 0, 0, 0
    prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
    completion = int(getattr(usage, "completion_tokens", 0) or 0)
    details = getattr(usage, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    cached = cached or int(getattr(usage, "cache_read_input_tokens", 0) or 0)
    return prompt, completion, cached


def plain(value: Any) -> Any:
    """A LiteLLM object as plain JSON data, without the fields it adds of its own."""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def compact(value: Any) -> Any:
    """Plain data without null fields (LiteLLM pads usage with every detail it knows of)."""
    value = plain(value)
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def baseline_units(config: SquadsConfig, tokens_in: int, tokens_out: int) -> int | None:
    """What the call would have cost at the savings baseline's price."""
    price = baseline_price(config.savings)
    if price is None:
        return None
    return budget.to_units(price.cost(tokens_in, tokens_out))


def row_for(
    record: RoutingRecord, candidate: Candidate, context: CallContext, attempt: int
) -> spend.CallRow:
    """The spend row of one attempt, before anything is known of its outcome."""
    return spend.CallRow(
        request_id=record.request_id,
        squad=candidate.squad,
        deployment=candidate.deployment,
        model=candidate.model,
        kind=record.kind,
        caller=context.caller,
        feature=context.feature,
        requested_model=record.requested_model,
        outcome="pending",
        attempt=attempt,
    )


def settle_usage(
    settings: Settings,
    config: SquadsConfig,
    ticket: books.Ticket,
    deployment: Deployment,
    usage: Any,
    finish_reason: str | None,
    latency_ms: int,
    service_tier: str | None = None,
) -> float:
    """Close an answered attempt at LiteLLM's price for its usage; returns the cost charged."""
    tokens_in, tokens_out, cached = usage_counts(usage)
    if usage is None:
        # No usage reported: the provider billed something we cannot see. Charge the hold.
        books.charge_estimate(settings, ticket, "ok", "no usage reported", latency_ms)
        return ticket.reservation.usd
    try:
        cost_units = budget.to_units(pricing.actual_cost(deployment, usage, service_tier))
    except Exception as exc:  # a calculator that cannot price this usage: charge the hold
        log.warning("cost of %s could not be computed: %s", deployment.model, exc)
        books.charge_estimate(settings, ticket, "ok", f"unpriced usage: {exc}"[:200], latency_ms)
        return ticket.reservation.usd
    row = ticket.row.model_copy(
        update={
            "outcome": "ok", "tokens_in": tokens_in, "tokens_out": tokens_out,
            "cached_tokens": cached, "cost_units": cost_units, "estimated": False,
            "latency_ms": latency_ms, "finish_reason": finish_reason,
            "baseline_units": baseline_units(config, tokens_in, tokens_out)
            if ticket.row.kind == "chat"
            else None,
        }
    )  # fmt: skip
    books.close(settings, ticket, row)
    return cost_units / budget.UNITS_PER_USD


def from_response(
    settings: Settings,
    config: SquadsConfig,
    record: RoutingRecord,
    candidate: Candidate,
    request: CompletionRequest,
    ticket: books.Ticket,
    response: Any,
    started: float,
) -> Completion:
    """Settle a fresh answer, cache it when allowed, and return it as the provider gave it."""
    deployment = config.deployment(candidate.squad, candidate.deployment)
    choices = plain(getattr(response, "choices", None) or [])
    usage = getattr(response, "usage", None)
    finish = choices[0].get("finish_reason") if choices else None
    latency_ms = int((time.perf_counter() - started) * 1000)
    tier = request.params.get("service_tier")
    cost = settle_usage(
        settings, config, ticket, deployment, usage, finish, latency_ms,
        tier if isinstance(tier, str) else None,
    )  # fmt: skip
    tokens_in, tokens_out, _ = usage_counts(usage)
    message = (choices[0].get("message") or {}) if choices else {}
    answer = cache.CachedAnswer(
        text=str(message.get("content") or ""),
        squad=candidate.squad,
        deployment=candidate.deployment,
        model=deployment.model,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        finish_reason=finish,
        choices=choices,
        usage=compact(usage) if usage is not None else {},
        upstream_model=getattr(response, "model", None),
        raw_message=message,
    )
    if cache.cacheable(settings, config.router, request):
        cache.store(settings, request, answer)
    candidate.status = "chosen"
    record.chosen = f"{candidate.squad}/{candidate.deployment}"
    completion = completion_of(answer, record, cost, latency_ms)
    completion.system_fingerprint = getattr(response, "system_fingerprint", None)
    return completion


def from_cache(
    settings: Settings,
    config: SquadsConfig,
    record: RoutingRecord,
    context: CallContext,
    hit: cache.CachedAnswer,
    started: float,
) -> Completion:
    """A cache hit: logged at $0, with what it would have cost at the baseline (cache savings)."""
    latency_ms = int((time.perf_counter() - started) * 1000)
    record.cache_hit, record.chosen = True, f"cache ({hit.squad}/{hit.deployment})"
    spend.record(
        settings,
        spend.CallRow(
            request_id=record.request_id, squad=hit.squad, deployment=hit.deployment,
            model=hit.model, caller=context.caller, feature=context.feature,
            requested_model=record.requested_model, tokens_in=hit.tokens_in,
            tokens_out=hit.tokens_out, latency_ms=latency_ms, cache_hit=True,
            outcome="cache_hit", finish_reason=hit.finish_reason,
            baseline_units=baseline_units(config, hit.tokens_in, hit.tokens_out),
        ),
    )  # fmt: skip
    return completion_of(hit, record, 0.0, latency_ms)


def completion_of(
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
        finish_reason=answer.finish_reason,
        choices=answer.choices,
        usage=answer.usage,
        upstream_model=answer.upstream_model,
        raw_message=answer.raw_message,
        routing=record,
    )
