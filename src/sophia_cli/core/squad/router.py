"""Route a request to the cheapest capable deployment, with fallbacks, budget and cache.

`route()` plans without calling anything (the dry run behind `--explain --dry-run`);
`complete()` plans, then tries candidates in order: reserve the worst case, call, settle.
"""

from __future__ import annotations

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
from sophia_cli.core.squad import answers, budget, cache, cooldown, llm, pricing, spend
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
            estimated_cost_usd=round(price.cost(est_in, request.max_tokens), 10) if price else None,
            reserve_usd=round(price.cost(max_in, request.max_tokens), 10) if price else None,
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
            return answers.from_cache(settings, record, hit, started)
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
        answers.log_failure(settings, record, candidate, held, call_started, failure)
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
    except BaseException:  # interrupted mid-call: give the money back, then stop
        budget.release(settings, held)
        raise
    return answers.from_response(
        settings, record, candidate, deployment, request, held, response, started
    )


def _deployment(config: SquadsConfig, candidate: Candidate) -> Deployment:
    return next(
        d for d in config.squads[candidate.squad].deployments if d.name == candidate.deployment
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
