"""Prices per deployment: LiteLLM's price map under the squads file's overrides.

Plans and reservations read the map shipped inside the litellm wheel directly (offline, and
without importing litellm, which costs seconds). The cost of a finished call is LiteLLM's own
cost calculator over the provider's usage, so cached-prompt and long-context tiers are
priced as the provider prices them; the squads file's prices override the map key by key.
"""

from __future__ import annotations

import json
import math
import os
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from sophia_cli.core.squad.models import Deployment
from sophia_cli.core.squad.request import CompletionRequest

_MAP_FILE = "model_prices_and_context_window_backup.json"
PER_MTOK = 1_000_000
LONG_CONTEXT_TOKENS = 200_000
IMAGE_TOKENS = 40_000
# squads-file field -> LiteLLM model-info key (USD per token there, per million here)
_OVERRIDES = {
    "input_cost_per_mtok": "input_cost_per_token",
    "output_cost_per_mtok": "output_cost_per_token",
    "cached_input_cost_per_mtok": "cache_read_input_token_cost",
    "input_cost_per_mtok_above_200k": "input_cost_per_token_above_200k_tokens",
    "output_cost_per_mtok_above_200k": "output_cost_per_token_above_200k_tokens",
}


class Price(BaseModel):
    """A deployment's per-token prices (USD per million) and where they came from."""

    input_per_mtok: float
    output_per_mtok: float
    input_per_mtok_long: float
    output_per_mtok_long: float
    source: Literal["config", "litellm"]

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """A call's cost at list price, in the long-context tier when the prompt is long."""
        long = tokens_in > LONG_CONTEXT_TOKENS
        price_in = self.input_per_mtok_long if long else self.input_per_mtok
        price_out = self.output_per_mtok_long if long else self.output_per_mtok
        return (tokens_in * price_in + tokens_out * price_out) / PER_MTOK

    def worst_cost(self, tokens_in: int, tokens_out: int) -> float:
        """The most a call could cost: every tier's highest price (for reservations)."""
        price_in = max(self.input_per_mtok, self.input_per_mtok_long)
        price_out = max(self.output_per_mtok, self.output_per_mtok_long)
        return (tokens_in * price_in + tokens_out * price_out) / PER_MTOK


def litellm_env() -> None:
    """Make any later `import litellm` use its bundled price map instead of the network."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


@lru_cache(maxsize=1)
def bundled_price_map() -> dict[str, Any]:
    """LiteLLM's bundled model map (empty when litellm is not installed)."""
    spec = find_spec("litellm")
    if spec is None or spec.origin is None:
        return {}
    path = Path(spec.origin).parent / _MAP_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def map_entry(model: str) -> dict[str, Any] | None:
    """The map's entry for a LiteLLM model id, with or without its provider prefix."""
    prices = bundled_price_map()
    names = [model]
    if "/" in model:
        names.append(model.split("/", 1)[1])
    for name in names:
        entry = prices.get(name)
        if isinstance(entry, dict) and entry.get("input_cost_per_token") is not None:
            return entry
    return None


def model_info(deployment: Deployment) -> dict[str, Any]:
    """The map's model info with the squads file's prices laid over it, key by key."""
    info = dict(map_entry(deployment.model) or {})
    for field, key in _OVERRIDES.items():
        value = getattr(deployment, field)
        if value is not None:
            info[key] = value / PER_MTOK
    info.setdefault("litellm_provider", provider_of(deployment.model))
    return info


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def price_for(deployment: Deployment) -> Price | None:
    """The deployment's price, or None when neither the config nor the map knows it."""
    info = model_info(deployment)
    per_in, per_out = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    embedding = "embedding" in deployment.capabilities and "chat" not in deployment.capabilities
    if per_in is None or (per_out is None and not embedding):
        return None
    base_in, base_out = float(per_in) * PER_MTOK, float(per_out or 0) * PER_MTOK
    long_in = info.get("input_cost_per_token_above_200k_tokens")
    long_out = info.get("output_cost_per_token_above_200k_tokens")
    overridden = any(getattr(deployment, field) is not None for field in _OVERRIDES)
    return Price(
        input_per_mtok=base_in,
        output_per_mtok=base_out,
        input_per_mtok_long=float(long_in) * PER_MTOK if long_in is not None else base_in,
        output_per_mtok_long=float(long_out) * PER_MTOK if long_out is not None else base_out,
        source="config" if overridden else "litellm",
    )


def actual_cost(deployment: Deployment, usage: Any, service_tier: str | None = None) -> float:
    """LiteLLM's cost calculator over the provider's usage (litellm is loaded by then)."""
    from litellm.litellm_core_utils.llm_cost_calc.utils import generic_cost_per_token

    name = deployment.model.split("/", 1)[1] if "/" in deployment.model else deployment.model
    prompt, completion = generic_cost_per_token(
        model=name,
        usage=usage,
        custom_llm_provider=provider_of(deployment.model),
        service_tier=service_tier,
        model_info=model_info(deployment),  # type: ignore[arg-type]
    )
    return float(prompt) + float(completion)


def context_window(deployment: Deployment) -> int | None:
    """The configured context window, else the map's max input tokens."""
    if deployment.context_window is not None:
        return deployment.context_window
    entry = map_entry(deployment.model)
    value = entry.get("max_input_tokens") if entry else None
    return int(value) if value else None


def output_limit(deployment: Deployment) -> int | None:
    """The most output tokens one call may produce: the file's, else the map's."""
    if deployment.max_output_tokens is not None:
        return deployment.max_output_tokens
    entry = map_entry(deployment.model)
    value = (entry.get("max_output_tokens") or entry.get("max_tokens")) if entry else None
    return int(value) if value else None


def _prompt_text(request: CompletionRequest) -> str:
    # Tools and the response format are sent with the prompt and billed as input.
    forwarded = request.forwarded()
    parts = [request.messages, forwarded.get("tools"), forwarded.get("response_format")]
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)


def estimate_tokens(request: CompletionRequest) -> int:
    """A typical prompt token count (about 4 characters a token), for order and context fit."""
    return math.ceil(len(_prompt_text(request)) / 4) + 3 * len(request.messages)


def max_input_tokens(request: CompletionRequest) -> int:
    """An upper bound on prompt tokens (no tokenizer emits more tokens than UTF-8 bytes).

    Budget reservations use it so a settled cost never exceeds what was reserved. Images
    are billed by size, not by the bytes of their URL: each image part adds IMAGE_TOKENS, the
    most any priced model bills for one high-detail image (gpt-4o-mini's multiplied tiles).
    """
    images = sum(
        1
        for message in request.messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") in ("image_url", "input_image")
    )
    return (
        len(_prompt_text(request).encode("utf-8"))
        + 3 * len(request.messages)
        + 8
        + IMAGE_TOKENS * images
    )


def text_tokens_bound(texts: list[str]) -> int:
    """An upper bound on tokens of embedding inputs (UTF-8 bytes, plus one per input)."""
    return sum(len(text.encode("utf-8")) + 1 for text in texts)
