"""Pydantic models of the squad: configuration, requests, answers, routing, budget, spend."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sophia_cli.core.squad.capabilities import CAPABILITIES, Capability

__all__ = ["CAPABILITIES", "Capability"]
ALERT_LEVELS = (50, 80, 100)


class Deployment(BaseModel):
    """One model behind one endpoint, as written in the squads file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    model: str = Field(min_length=1, description="LiteLLM model id, e.g. openai/gpt-4o-mini")
    api_base: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    capabilities: list[Capability] = ["chat"]
    context_window: int | None = Field(default=None, gt=0)
    input_cost_per_mtok: float | None = Field(default=None, ge=0)
    output_cost_per_mtok: float | None = Field(default=None, ge=0)


class Squad(BaseModel):
    """A named group of deployments."""

    model_config = ConfigDict(extra="forbid")

    primary: bool = False
    deprecated: bool = False
    description: str = ""
    daily_budget_usd: float | None = Field(default=None, gt=0)
    deployments: list[Deployment] = Field(min_length=1)


class RouterOptions(BaseModel):
    """How hard the router tries before giving up on a deployment."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(default=60.0, gt=0)
    allowed_fails: int = Field(default=2, ge=1, description="failures in a window before cooldown")
    cooldown_s: float = Field(default=60.0, gt=0)
    max_retry_after_s: float = Field(
        default=300.0, gt=0, description="cap on a Retry-After cooldown"
    )


class SquadsConfig(BaseModel):
    """The whole squads file, plus where it came from and what it warned about."""

    model_config = ConfigDict(extra="forbid")

    squads: dict[str, Squad] = Field(min_length=1)
    router: RouterOptions = RouterOptions()
    source: str = ""
    warnings: list[str] = []


class CompletionRequest(BaseModel):
    """What a caller needs from a model; the router picks who answers."""

    messages: list[dict[str, Any]] = Field(min_length=1)
    capabilities: list[str] = ["chat"]
    max_tokens: int = Field(default=512, gt=0)
    temperature: float | None = None
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    use_cache: bool = True
    squad: str | None = None


class Candidate(BaseModel):
    """One deployment the router considered, and what became of it."""

    squad: str
    deployment: str
    model: str
    estimated_cost_usd: float | None
    reserve_usd: float | None
    status: Literal["eligible", "skipped", "failed", "chosen"] = "eligible"
    reason: str = ""


class RoutingRecord(BaseModel):
    """Why the router chose what it chose: every candidate, in the order tried."""

    request_id: str
    capabilities: list[str]
    estimated_tokens_in: int
    max_tokens: int
    candidates: list[Candidate]
    chosen: str | None = None
    cache_hit: bool = False


class Completion(BaseModel):
    """A model's answer with its cost and the routing record."""

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
    raw_message: dict[str, Any] = {}
    routing: RoutingRecord


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
    rebuilt: bool = False


class SpendRow(BaseModel):
    """One group of the spend report."""

    key: str
    calls: int
    cache_hits: int
    failures: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


class SpendReport(BaseModel):
    """Spend over the last days grouped by model, squad or day."""

    days: int
    by: Literal["model", "squad", "day"]
    rows: list[SpendRow]
    total_usd: float
    total_calls: int


class DeploymentInfo(BaseModel):
    """A row of `sophia squad models`."""

    squad: str
    deployment: str
    model: str
    capabilities: list[str]
    context_window: int | None
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
