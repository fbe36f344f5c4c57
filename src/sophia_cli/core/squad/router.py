"""Route a request to the cheapest capable deployment, with fallbacks, budget and cache.

`route()` plans without calling anything (the dry run behind `--explain --dry-run`);
`complete()` plans, then tries candidates in order: reserve the worst case, call, settle.
"""

from __future__ import annotations

import logging
import time
import uuid

from sophia_cli.core.errors import (
    BudgetExceededError,
    ConfigError,
    RateLimitedError,
    UpstreamError,
    UsageError,
)
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import alerts, budget, cache, cooldown, llm, pricing, spend
from sophia_cli.core.squad.config import load_squads, squad_order
from sophia_cli.core.squad.models import (
    CAPABILITIES,
    Candidate,
    Completion,
    CompletionRequest,
    Deployment,
    RoutingRecord,
    SquadsConfig,
)

log = logging.getLogger("sophia.squad")


def route(settings: Settings, request: CompletionRequest) -> RoutingRecord:
    """The routing plan for a request, without calling a model or touching the budget."""
    return plan(settings, load_squads(settings), request, uuid.uuid4().hex)


def plan(
    settings: Settings, config: SquadsConfig, request: CompletionRequest, request_id: str
) -> RoutingRecord:
    """Every candidate with its estimated cost: eligible ones cheapest first, then skipped."""
    unknown = sorted(set(request.capabilities) - set(CAPABILITIES))
    if unknown:
        raise UsageError(
            f"unknown capability {', '.join(unknown)}",
            hint=f"Use one or more of: {', '.join(CAPABILITIES)}.",
        )
    est_in, max_in = pricing.estimate_tokens(request), pricing.max_input_tokens(request)
    order = squad_order(settings, config, request.squad)
    pairs = [(name, dep) for name in order for dep in config.squads[name].deployments]
    cooling = cooldown.cooling(settings, [(name, dep.name) for name, dep in pairs])
    candidates = []
    for name, dep in pairs:
        price = pricing.price_for(dep)
        candidate = Candidate(
            squad=name,
            deployment=dep.name,
            model=dep.model,
            estimated_cost_usd=price.cost(est_in, request.max_tokens) if price else None,
            reserve_usd=price.cost(max_in, request.max_tokens) if price else None,
        )
        reason = _skip_reason(settings, name, dep, request, est_in, cooling[(name, dep.name)])
        if reason is None and price is None:
            reason = "no price: set input_cost_per_mtok and output_cost_per_mtok in the squads file"
        if reason is not None:
            candidate.status, candidate.reason = "skipped", reason
        candidates.append(candidate)
    rank = {name: index for index, name in enumerate(order)}
    candidates.sort(
        key=lambda c: (c.status != "eligible", rank[c.squad], c.estimated_cost_usd or 0)
    )
    return RoutingRecord(
        request_id=request_id,
        capabilities=request.capabilities,
        estimated_tokens_in=est_in,
        max_tokens=request.max_tokens,
        candidates=candidates,
    )


def _skip_reason(
    settings: Settings,
    squad: str,
    dep: Deployment,
    request: CompletionRequest,
    est_in: int,
    cooling_s: float,
) -> str | None:
    missing = [cap for cap in request.capabilities if cap not in dep.capabilities]
    if missing:
        return f"lacks capability {', '.join(missing)}"
    target = llm.endpoint(settings, squad, dep)
    if not target.configured:
        return f"no key: {target.key_env} is not set"
    window = pricing.context_window(dep)
    if window is not None and est_in + request.max_tokens > window:
        return f"context window {window} < ~{est_in + request.max_tokens} tokens needed"
    if cooling_s > 0:
        return f"cooling down ({cooling_s:.0f}s left)"
    return None


def complete(settings: Settings, request: CompletionRequest) -> Completion:
    """Answer a request from the cache or the cheapest capable deployment within budget."""
    started = time.perf_counter()
    config = load_squads(settings)
    record = plan(settings, config, request, uuid.uuid4().hex)
    if request.use_cache:
        hit = cache.lookup(settings, request)
        if hit is not None:
            return _cached(settings, record, hit, started)
    eligible = [c for c in record.candidates if c.status == "eligible"]
    if not eligible:
        raise _nobody_eligible(record)
    failures: list[llm.CallFailure] = []
    refusals: list[BudgetExceededError] = []
    for candidate in eligible:
        deployment = _deployment(config, candidate)
        squad_budget = config.squads[candidate.squad].daily_budget_usd
        try:
            held = budget.reserve(
                settings, candidate.squad, candidate.reserve_usd or 0.0, squad_budget
            )
        except BudgetExceededError as exc:
            candidate.status, candidate.reason = "skipped", exc.message
            refusals.append(exc)
            continue
        answer = _attempt(settings, config, record, candidate, deployment, request, held, started)
        if isinstance(answer, Completion):
            return answer
        failures.append(answer)
    raise _all_failed(settings, record, failures, refusals)


def _attempt(
    settings: Settings,
    config: SquadsConfig,
    record: RoutingRecord,
    candidate: Candidate,
    deployment: Deployment,
    request: CompletionRequest,
    held: budget.Reservation,
    started: float,
) -> Completion | llm.CallFailure:
    """One call to one deployment; a failure is returned when the router may fall back."""
    target = llm.endpoint(settings, candidate.squad, deployment)
    call_started = time.perf_counter()
    try:
        response = llm.call(target, request, config.router.timeout_s)
    except Exception as exc:  # LiteLLM raises many types; classify() sorts them
        budget.release(settings, held)
        failure = llm.classify(exc)
        _log_failure(settings, record, candidate, held, call_started, failure)
        candidate.status, candidate.reason = "failed", failure.message
        if not failure.retryable:
            raise UpstreamError(
                f"{candidate.squad}/{candidate.deployment} refused the request: {failure.message}",
                hint=_stop_hint(failure, target),
            ) from exc
        if failure.cool_down:
            cooldown.record_failure(
                settings,
                config.router,
                candidate.squad,
                candidate.deployment,
                failure.retry_after_s,
            )
        return failure
    return _answered(settings, record, candidate, deployment, request, held, response, started)


def _answered(
    settings: Settings,
    record: RoutingRecord,
    candidate: Candidate,
    deployment: Deployment,
    request: CompletionRequest,
    held: budget.Reservation,
    response: object,
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
    spend.record(
        settings,
        spend.CallRow(
            request_id=record.request_id,
            squad=candidate.squad,
            deployment=candidate.deployment,
            model=deployment.model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_units=cost_units,
            reserved_units=held.units,
            latency_ms=latency_ms,
            outcome="ok",
        ),
    )
    if settlement.crossed:
        alerts.notify(settings, settlement.crossed, settlement.spent_usd)
    if request.use_cache:
        cache.store(
            settings,
            request,
            cache.CachedAnswer(
                text=text,
                squad=candidate.squad,
                deployment=candidate.deployment,
                model=deployment.model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                raw_message=raw,
            ),
        )
    candidate.status = "chosen"
    record.chosen = f"{candidate.squad}/{candidate.deployment}"
    return Completion(
        text=text,
        deployment=candidate.deployment,
        model=deployment.model,
        squad=candidate.squad,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=cost_units / budget.UNITS_PER_USD,
        cache_hit=False,
        latency_ms=latency_ms,
        request_id=record.request_id,
        raw_message=raw,
        routing=record,
    )


def _cached(
    settings: Settings, record: RoutingRecord, hit: cache.CachedAnswer, started: float
) -> Completion:
    latency_ms = int((time.perf_counter() - started) * 1000)
    record.cache_hit, record.chosen = True, f"cache ({hit.squad}/{hit.deployment})"
    spend.record(
        settings,
        spend.CallRow(
            request_id=record.request_id,
            squad=hit.squad,
            deployment=hit.deployment,
            model=hit.model,
            tokens_in=hit.tokens_in,
            tokens_out=hit.tokens_out,
            latency_ms=latency_ms,
            cache_hit=True,
            outcome="cache_hit",
        ),
    )
    return Completion(
        text=hit.text,
        deployment=hit.deployment,
        model=hit.model,
        squad=hit.squad,
        tokens_in=hit.tokens_in,
        tokens_out=hit.tokens_out,
        cost_usd=0.0,
        cache_hit=True,
        latency_ms=latency_ms,
        request_id=record.request_id,
        raw_message=hit.raw_message,
        routing=record,
    )


def _deployment(config: SquadsConfig, candidate: Candidate) -> Deployment:
    return next(
        d for d in config.squads[candidate.squad].deployments if d.name == candidate.deployment
    )


def _log_failure(
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


def _stop_hint(failure: llm.CallFailure, target: llm.Endpoint) -> str:
    if failure.status in (401, 403) and target.key_env:
        return f"Check {target.key_env}: the provider rejected it."
    return "The request itself was rejected; check messages, tools and response_format."


def _nobody_eligible(record: RoutingRecord) -> ConfigError:
    """No deployment can even be tried: say which variable or capability is missing."""
    reasons = [c.reason for c in record.candidates]
    keys = sorted({r.split(": ", 1)[1].split(" ")[0] for r in reasons if r.startswith("no key")})
    cooling = [c for c in record.candidates if c.reason.startswith("cooling")]
    if keys:  # capability is checked first, so these deployments could have answered
        return ConfigError(
            f"no deployment for capabilities {', '.join(record.capabilities)} is configured: "
            f"set {' or '.join(keys)}",
            hint=f"Set {keys[0]} (environment or .env.master); `sophia squad models` lists keys.",
        )
    if cooling:
        return ConfigError(
            "every capable deployment is cooling down after failures",
            hint="Wait for the cooldown (see `sophia squad route --explain --dry-run`).",
        )
    return ConfigError(
        f"no deployment offers {', '.join(record.capabilities)}",
        hint="Add a capable deployment to the squads file, or ask for fewer capabilities.",
    )


def _all_failed(
    settings: Settings,
    record: RoutingRecord,
    failures: list[llm.CallFailure],
    refusals: list[BudgetExceededError],
) -> Exception:
    if refusals:
        spend.record(
            settings,
            spend.CallRow(
                request_id=record.request_id,
                squad=None,
                deployment=None,
                model=None,
                outcome="budget_exceeded",
                error=refusals[0].message,
            ),
        )
        return BudgetExceededError(f"no capable deployment fits the budget: {refusals[0].message}")
    waits = [f.retry_after_s for f in failures if f.status == 429 and f.retry_after_s is not None]
    if waits and len(waits) == len(failures):
        return RateLimitedError(
            "every capable deployment is rate limited", retry_after_s=min(waits)
        )
    detail = "; ".join(f.message for f in failures)
    return UpstreamError(f"every capable deployment failed: {detail[:400]}")
