"""The routing plan: which deployments may answer a request, in which order, and why not others.

`model` decides the field: `auto` routes across every squad (cheapest first, the primary squad
breaking ties), a squad name routes inside that squad, a deployment name (or `squad/name`)
pins that deployment and then its explicit fallbacks, and a model id (e.g. `gpt-4o-mini`)
balances the deployments serving it. Equal-price deployments are shuffled by weight, so
traffic spreads in proportion. Nothing is called and no budget is touched here.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from sophia_cli.core.errors import ConfigError, NotFoundError, ServiceUnavailableError, UsageError
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import cooldown, llm, pricing, quality
from sophia_cli.core.squad.config import squad_order
from sophia_cli.core.squad.models import CAPABILITIES, Deployment, SquadsConfig
from sophia_cli.core.squad.request import AUTO, CompletionRequest, ParameterError
from sophia_cli.core.squad.results import Candidate, QualityDecision, RoutingRecord

Pair = tuple[str, Deployment]


class CoolingDownError(ServiceUnavailableError):
    """Every capable deployment is cooling down: retry after the shortest cooldown (503)."""

    code = "cooling_down"

    def __init__(self, message: str, *, retry_after_s: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"


@dataclass(frozen=True)
class Demand:
    """What a request needs from a deployment, and what it may cost there."""

    capabilities: list[str]
    estimated_in: int
    max_in: int
    max_out: int | None
    choices: int
    unsupported: Callable[[llm.Endpoint], list[str]]


def chat_demand(request: CompletionRequest) -> Demand:
    return Demand(
        capabilities=request.needed_capabilities(),
        estimated_in=pricing.estimate_tokens(request),
        max_in=pricing.max_input_tokens(request),
        max_out=request.max_tokens,
        choices=request.choices,
        unsupported=lambda target: llm.unsupported(target, request),
    )


def resolve(
    settings: Settings, config: SquadsConfig, model: str, squad: str | None
) -> list[list[Pair]]:
    """The deployments `model` (or `squad`) allows, in groups tried one after the other.

    Routing by cost is one group; a pinned deployment is its own group, then one group per
    explicit fallback. Inside a group the cheapest goes first and equal prices are balanced.
    """
    if model == AUTO or model in config.squads:
        order = squad_order(settings, config, squad or (model if model != AUTO else None))
        return [[(name, dep) for name in order for dep in config.squads[name].deployments]]
    named = _by_name(config, model)
    if named:
        groups = [named]
        for ref in config.router.fallbacks.get(model, []):
            found = [pair for pair in _by_name(config, ref) if all(pair not in g for g in groups)]
            if not found:
                raise ConfigError(
                    f"fallback `{ref}` of `{model}` is not a deployment in {config.source}",
                    hint="Fix router.fallbacks in the squads file.",
                )
            groups.append(found)
        return groups
    served = [
        (name, dep)
        for name, group in config.squads.items()
        for dep in group.deployments
        if model in (dep.model, dep.model.split("/", 1)[-1])
    ]
    if served:
        return [served]
    raise ModelNotFoundError(
        f"model `{model}` is not served here",
        hint="Use auto, a squad, a deployment or a model id from GET /v1/models "
        "(`sophia squad models`).",
    )


def _by_name(config: SquadsConfig, ref: str) -> list[Pair]:
    squad, _, name = ref.rpartition("/")
    return [
        (group_name, dep)
        for group_name, group in config.squads.items()
        for dep in group.deployments
        if dep.name == name and (not squad or squad == group_name)
    ]


def plan(
    settings: Settings,
    config: SquadsConfig,
    request: CompletionRequest,
    request_id: str,
    demand: Demand | None = None,
) -> RoutingRecord:
    """Every candidate with its estimated cost: eligible ones in the order to try, then skipped."""
    need = demand or chat_demand(request)
    unknown = sorted(set(need.capabilities) - set(CAPABILITIES))
    if unknown:
        raise UsageError(
            f"unknown capability {', '.join(unknown)}",
            hint=f"Use one or more of: {', '.join(CAPABILITIES)}.",
        )
    groups = resolve(settings, config, request.model, request.squad)
    pairs = [pair for group in groups for pair in group]
    decision = None
    if config.quality.enabled and len(groups) == 1 and request.model == AUTO and demand is None:
        decision = quality.decide(config, request)
    cooling = cooldown.cooling(settings, [(name, dep.name) for name, dep in pairs])
    candidates = []
    for name, dep in pairs:
        candidate = _candidate(settings, name, dep, need, cooling[(name, dep.name)])
        if candidate.status == "eligible" and decision is not None:
            candidate.reason = quality.skip_reason(config, decision, name, dep) or ""
            candidate.status = "skipped" if candidate.reason else "eligible"
        candidates.append(candidate)
    _order(settings, groups, candidates)
    return RoutingRecord(
        request_id=request_id,
        requested_model=request.model,
        capabilities=need.capabilities,
        estimated_tokens_in=need.estimated_in,
        max_tokens=need.max_out,
        candidates=candidates,
        quality=decision,
    )


def _candidate(
    settings: Settings, squad: str, dep: Deployment, need: Demand, cooling_s: float
) -> Candidate:
    price = pricing.price_for(dep)
    out = need.max_out if need.max_out is not None else pricing.output_limit(dep)
    if "embedding" in need.capabilities:
        out = 0
    candidate = Candidate(
        squad=squad,
        deployment=dep.name,
        model=dep.model,
        estimated_cost_usd=_round(price.cost(need.estimated_in, min(out or 0, 256) * need.choices))
        if price
        else None,
        reserve_usd=_round(price.worst_cost(need.max_in, (out or 0) * need.choices))
        if price
        else None,
    )
    candidate.cooling_s = cooling_s
    reason = _skip_reason(settings, squad, dep, need, out, cooling_s)
    if reason is None and price is None:
        reason = "no price: set input_cost_per_mtok and output_cost_per_mtok in the squads file"
    if reason is not None:
        candidate.status, candidate.reason = "skipped", reason
    return candidate


def _round(value: float) -> float:
    return round(value, 10)


def _skip_reason(
    settings: Settings, squad: str, dep: Deployment, need: Demand, out: int | None, cooling_s: float
) -> str | None:
    missing = [cap for cap in need.capabilities if cap not in dep.capabilities]
    if missing:
        return f"lacks capability {', '.join(missing)}"
    target = llm.endpoint(settings, squad, dep)
    if not target.configured:
        return f"no key: {target.key_env} is not set"
    refused = need.unsupported(target)
    if refused:
        return f"does not take parameter {', '.join(refused)}"
    limit = pricing.output_limit(dep)
    if out is None:
        return "unknown output limit: set max_output_tokens in the squads file"
    if need.max_out is not None and limit is not None and need.max_out > limit:
        return f"max_tokens {need.max_out} > output limit {limit}"
    window = pricing.context_window(dep)
    wanted = need.estimated_in + (need.max_out or 0)
    if window is not None and wanted > window:
        return f"context window {window} < ~{wanted} tokens needed"
    if cooling_s > 0:
        return f"cooling down ({cooling_s:.0f}s left)"
    return None


def _order(settings: Settings, groups: list[list[Pair]], candidates: list[Candidate]) -> None:
    """Eligible first, group by group; cheapest first (primary squad on ties), then by luck."""
    group_of = {(name, dep.name): i for i, group in enumerate(groups) for name, dep in group}
    weights = {(name, dep.name): dep.weight for group in groups for name, dep in group}
    # Weighted shuffle (Efraimidis-Spirakis): among equal prices, order follows the weights.
    luck = {pair: random.random() ** (1 / weight) for pair, weight in weights.items()}
    primary = settings.primary_squad

    def key(c: Candidate) -> tuple[bool, int, float, bool, float]:
        pair = (c.squad, c.deployment)
        cost = c.estimated_cost_usd or 0.0
        return (c.status != "eligible", group_of[pair], cost, c.squad != primary, -luck[pair])

    candidates.sort(key=key)


def nobody_eligible(record: RoutingRecord) -> Exception:
    """No deployment can even be tried: say which parameter, key, capability or wait is missing."""
    reasons = [c.reason for c in record.candidates]
    params = sorted({r.split("parameter ", 1)[1] for r in reasons if "take parameter" in r})
    keys = sorted({r.split(": ", 1)[1].split(" ")[0] for r in reasons if r.startswith("no key")})
    cooling = [c.cooling_s for c in record.candidates if c.cooling_s > 0]
    if params and all("take parameter" in r or "lacks" in r for r in reasons):
        return ParameterError(
            params[0].split(",")[0],
            f"no capable deployment takes parameter {', '.join(params)}",
            hint="Drop the parameter, or pin a model whose provider supports it.",
        )
    if keys:  # capability is checked first, so these deployments could have answered
        return ConfigError(
            f"no deployment for capabilities {', '.join(record.capabilities)} is configured: "
            f"set {' or '.join(keys)}",
            hint=f"Set {keys[0]} (environment or .env.master); `sophia squad models` lists keys.",
        )
    if cooling and all(c.cooling_s > 0 or c.reason.startswith("lacks") for c in record.candidates):
        return CoolingDownError(
            "every capable deployment is cooling down after failures",
            retry_after_s=max(1.0, min(cooling)),
            hint="Retry after Retry-After; `sophia squad route --explain --dry-run` shows them.",
        )
    if any(r.startswith("lacks") for r in reasons) and len(set(reasons)) == 1:
        return UsageError(
            f"no deployment offers {', '.join(record.capabilities)}",
            hint="Add a capable deployment to the squads file, or ask for fewer capabilities.",
        )
    detail = "; ".join(sorted({f"{c.squad}/{c.deployment}: {c.reason}" for c in record.candidates}))
    return UsageError(
        f"no deployment can take this request: {detail[:400]}",
        hint="`sophia squad route --explain --dry-run` shows every candidate and why.",
    )


__all__ = ["CoolingDownError", "ModelNotFoundError", "QualityDecision", "plan", "resolve"]
