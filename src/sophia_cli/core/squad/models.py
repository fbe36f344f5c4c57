"""Pydantic models of the squads file: deployments, squads, router, budgets, quality, savings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sophia_cli.core.squad.capabilities import CAPABILITIES, Capability

# Callers outside the squad (ask) import the request from here.
from sophia_cli.core.squad.request import CompletionRequest

__all__ = ["CAPABILITIES", "Capability", "CompletionRequest"]
ALERT_LEVELS = (50, 80, 100)


class Deployment(BaseModel):
    """One model behind one endpoint, as written in the squads file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[^/\s]+$")
    model: str = Field(min_length=1, description="LiteLLM model id, e.g. openai/gpt-4o-mini")
    api_base: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    capabilities: list[Capability] = ["chat"]
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(
        default=None, gt=0, description="most output tokens per call; sizes the reservation"
    )
    weight: float = Field(default=1.0, gt=0, description="share among equal-price deployments")
    input_cost_per_mtok: float | None = Field(default=None, ge=0)
    output_cost_per_mtok: float | None = Field(default=None, ge=0)
    cached_input_cost_per_mtok: float | None = Field(default=None, ge=0)
    input_cost_per_mtok_above_200k: float | None = Field(default=None, ge=0)
    output_cost_per_mtok_above_200k: float | None = Field(default=None, ge=0)
    usage_api: Literal["openai"] | None = Field(
        default=None, description="where `squad reconcile` reads the provider's usage report"
    )
    admin_key_env: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")


class Squad(BaseModel):
    """A named group of deployments."""

    model_config = ConfigDict(extra="forbid")

    primary: bool = False
    deprecated: bool = False
    description: str = ""
    daily_budget_usd: float | None = Field(default=None, gt=0)
    deployments: list[Deployment] = Field(min_length=1)


class RouterOptions(BaseModel):
    """How hard the router tries, and for how long, before it gives up."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(default=60.0, gt=0, description="most one attempt may take")
    deadline_s: float = Field(
        default=120.0, gt=0, description="most one request may take over all its attempts"
    )
    retries: int = Field(default=1, ge=0, le=5, description="same-deployment retries (transient)")
    backoff_s: float = Field(default=0.5, ge=0, description="first retry's wait, doubled after")
    allowed_fails: int = Field(default=2, ge=1, description="failures in a window before cooldown")
    cooldown_s: float = Field(default=60.0, gt=0)
    max_retry_after_s: float = Field(
        default=300.0, gt=0, description="cap on a Retry-After cooldown"
    )
    hold_s: float = Field(
        default=900.0, gt=0, description="a reservation not settled by then is charged in full"
    )
    budget_wait_s: float = Field(
        default=2.0, ge=0, description="wait for in-flight calls to settle before a 429"
    )
    fallbacks: dict[str, list[str]] = Field(
        default={}, description="deployment -> deployments tried after it when it is pinned"
    )
    cache_any_temperature: bool = Field(
        default=False, description="cache answers of temperature > 0 too (default: only 0)"
    )


class Budgets(BaseModel):
    """Daily budgets beside the global one: per caller (JWT `sub`) and per feature tag."""

    model_config = ConfigDict(extra="forbid")

    callers: dict[str, float] = Field(
        default={}, description="USD per UTC day per caller; `default` applies to the others"
    )
    features: dict[str, float] = Field(
        default={}, description="USD per UTC day per X-Sophia-Feature; `default` too"
    )


class QualityRule(BaseModel):
    """A user-written rule: prompts it matches go to `tier`."""

    model_config = ConfigDict(extra="forbid")

    tier: Literal["strong", "cheap"]
    pattern: str | None = Field(default=None, description="regular expression over the prompt")
    min_prompt_tokens: int | None = Field(default=None, gt=0)


class QualityOptions(BaseModel):
    """Send easy prompts to the cheap tier and hard ones to a strong tier (off by default)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    strong: list[str] = Field(
        default=[], description="deployments of the strong tier (default: those with reasoning)"
    )
    threshold: float = Field(default=0.5, ge=0, le=1, description="score from which it is hard")
    rules: list[QualityRule] = []


class SavingsOptions(BaseModel):
    """What a call would have cost without the squad: a baseline model's price."""

    model_config = ConfigDict(extra="forbid")

    baseline_model: str = Field(default="openai/gpt-4o", description="LiteLLM model id")
    input_cost_per_mtok: float | None = Field(default=None, ge=0)
    output_cost_per_mtok: float | None = Field(default=None, ge=0)


class SquadsConfig(BaseModel):
    """The whole squads file, plus where it came from and what it warned about."""

    model_config = ConfigDict(extra="forbid")

    squads: dict[str, Squad] = Field(min_length=1)
    router: RouterOptions = RouterOptions()
    budgets: Budgets = Budgets()
    quality: QualityOptions = QualityOptions()
    savings: SavingsOptions = SavingsOptions()
    source: str = ""
    warnings: list[str] = []

    def deployment(self, squad: str, name: str) -> Deployment:
        """One deployment by squad and name (both known)."""
        return next(d for d in self.squads[squad].deployments if d.name == name)
