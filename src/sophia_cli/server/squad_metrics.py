"""The squad's Prometheus metrics, fed by the router through its Observer interface.

Label values are closed sets: squads and deployments come from the squads file, outcomes
and refusal reasons from fixed lists in the code, so no caller can grow the series.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_ATTEMPT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)
OUTCOMES = ("ok", "error", "rate_limited", "timeout")
REFUSALS = ("budget_exceeded", "budget_busy", "cooling_down", "rate_limited", "upstream")


class SquadMetrics:
    """Completions, spend, attempts, failures, fallbacks, cooldowns, latency, budget left."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.calls = Counter(
            "sophia_squad_completions", "Completions served through the squad.", registry=r
        )
        self.cache_hits = Counter(
            "sophia_squad_cache_hits", "Completions served from the squad cache.", registry=r
        )
        self.spend = Counter(
            "sophia_squad_spend_usd",
            "LLM spend of completions served, in US dollars.",
            ["model"],
            registry=r,
        )
        self.attempts = Counter(
            "sophia_squad_attempts",
            "Calls to deployments by outcome (ok, error, rate_limited, timeout).",
            ["squad", "deployment", "outcome"],
            registry=r,
        )
        self.fallbacks = Counter(
            "sophia_squad_fallbacks",
            "Requests that fell back from this deployment to the next.",
            ["squad", "deployment"],
            registry=r,
        )
        self.cooldowns = Counter(
            "sophia_squad_cooldowns",
            "Cooldowns started for this deployment.",
            ["squad", "deployment"],
            registry=r,
        )
        self.latency = Histogram(
            "sophia_squad_attempt_duration_seconds",
            "Time of one call to a deployment (to the first chunk for streams).",
            ["squad", "deployment"],
            buckets=_ATTEMPT_BUCKETS,
            registry=r,
        )
        self.refusals = Counter(
            "sophia_squad_refusals",
            "Requests the squad refused, by reason.",
            ["reason"],
            registry=r,
        )
        self.remaining = Gauge(
            "sophia_squad_budget_remaining_usd",
            "Today's budget left after the last settle (spent and reserved taken off).",
            multiprocess_mode="mostrecent",
            registry=r,
        )

    # The router's Observer interface.
    def attempt(self, squad: str, deployment: str, outcome: str, seconds: float) -> None:
        label = outcome if outcome in OUTCOMES else "error"
        self.attempts.labels(squad, deployment, label).inc()
        self.latency.labels(squad, deployment).observe(seconds)

    def fallback(self, squad: str, deployment: str) -> None:
        self.fallbacks.labels(squad, deployment).inc()

    def cooldown(self, squad: str, deployment: str) -> None:
        self.cooldowns.labels(squad, deployment).inc()

    def budget(self, remaining_usd: float) -> None:
        self.remaining.set(remaining_usd)

    # What the route reports once per request.
    def served(self, cache_hit: bool, model: str | None, cost_usd: float | None) -> None:
        self.calls.inc()
        if cache_hit:
            self.cache_hits.inc()
        if model is not None and cost_usd is not None:
            self.spend.labels(model).inc(max(0.0, cost_usd))

    def refused(self, code: str) -> None:
        if code in REFUSALS:
            self.refusals.labels(code).inc()
