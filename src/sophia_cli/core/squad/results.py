"""What the squad answers: routing records, completions, budget and spend reports."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from sophia_cli.core.squad.models import ALERT_LEVELS


class Candidate(BaseModel):
    """One deployment the router considered, and what became of it."""

    squad: str
    deployment: str
    model: str
    estimated_cost_usd: float | None
    reserve_usd: float | None
    status: Literal["eligible", "skipped", "failed", "chosen"] = "eligible"
    reason: str = ""
    attempts: int = 0
    cooling_s: float = 0.0


class QualityDecision(BaseModel):
    """Why the quality-aware router sent a prompt to a tier."""

    tier: Literal["strong", "cheap"]
    score: float
    rule: str | None = None
    features: dict[str, float] = {}


class RoutingRecord(BaseModel):
    """Why the router chose what it chose: every candidate, in the order tried."""

    request_id: str
    kind: Literal["chat", "embedding"] = "chat"
    requested_model: str = "auto"
    capabilities: list[str]
    estimated_tokens_in: int
    max_tokens: int | None
    candidates: list[Candidate]
    chosen: str | None = None
    cache_hit: bool = False
    quality: QualityDecision | None = None


class Completion(BaseModel):
    """A model's answer as the provider gave it, with its cost and the routing record."""

    text: str
    deployment: str
    model: str
    squad: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    cache_hit: bool
    latency_ms: int
    request_id: str
    finish_reason: str | None = None
    choices: list[dict[str, Any]] = []
    usage: dict[str, Any] = {}
    upstream_model: str | None = None
    system_fingerprint: str | None = None
    raw_message: dict[str, Any] = {}
    routing: RoutingRecord


class EmbeddingResult(BaseModel):
    """Vectors for every input, with the cost of computing them."""

    vectors: list[list[float]]
    deployment: str
    squad: str
    model: str
    upstream_model: str | None
    tokens_in: int
    cost_usd: float
    request_id: str


class BudgetStatus(BaseModel):
    """Today's budget: what is spent, what in-flight calls hold, what is left."""

    day: date
    budget_usd: float
    spent_usd: float
    reserved_usd: float
    remaining_usd: float
    percent_used: float
    alert_levels: list[int] = list(ALERT_LEVELS)
    alerts_crossed: list[int] = []
    squads: dict[str, dict[str, float]] = {}
    callers: dict[str, dict[str, float]] = {}
    features: dict[str, dict[str, float]] = {}
    in_flight: int = 0
    rebuilt: bool = False


class SpendRow(BaseModel):
    """One group of the spend report."""

    key: str
    calls: int
    cache_hits: int
    failures: int
    estimated: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


class SpendReport(BaseModel):
    """Spend over the last days grouped by model, squad, day, caller or feature."""

    days: int
    by: Literal["model", "squad", "day", "caller", "feature"]
    rows: list[SpendRow]
    total_usd: float
    total_calls: int


class SavingsRow(BaseModel):
    """Savings of one group: baseline cost minus what was paid."""

    key: str
    calls: int
    cache_hits: int
    baseline_usd: float
    actual_usd: float
    routing_savings_usd: float
    cache_savings_usd: float


class SavingsReport(BaseModel):
    """What routing and the cache saved against the baseline model's price."""

    days: int
    baseline_model: str
    baseline_input_per_mtok: float
    baseline_output_per_mtok: float
    rows: list[SavingsRow]
    baseline_usd: float
    actual_usd: float
    routing_savings_usd: float
    cache_savings_usd: float
    savings_percent: float
    unpriced_calls: int
    estimated_calls: int


class ReconcileRow(BaseModel):
    """Our ledger against the provider's usage report for one model on one day."""

    day: date
    squad: str
    deployment: str
    model: str
    our_requests: int
    provider_requests: int
    our_tokens_in: int
    provider_tokens_in: int
    our_tokens_out: int
    provider_tokens_out: int
    our_cost_usd: float
    provider_cost_usd: float
    difference_usd: float
    estimated_rows: int
    adjusted: bool = False


class ReconcileReport(BaseModel):
    """Every reconcilable deployment, and those that could not be compared."""

    days: int
    rows: list[ReconcileRow]
    skipped: dict[str, str]
    our_total_usd: float
    provider_total_usd: float
    applied: bool


class DeploymentInfo(BaseModel):
    """A row of `sophia squad models`."""

    squad: str
    deployment: str
    model: str
    capabilities: list[str]
    context_window: int | None
    max_output_tokens: int | None
    input_cost_per_mtok: float | None
    output_cost_per_mtok: float | None
    price_source: str
    api_key_env: str | None
    configured: bool
    primary: bool
    deprecated: bool


class PingResult(BaseModel):
    """A row of `sophia squad test`."""

    squad: str
    deployment: str
    ok: bool
    latency_ms: int | None
    detail: str
