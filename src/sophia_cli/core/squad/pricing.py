"""Prices per deployment: the squads file first, else LiteLLM's bundled price map.

The map is the JSON file shipped inside the litellm wheel, read directly (offline, and
without importing litellm, which costs seconds). `litellm_env()` sets
LITELLM_LOCAL_MODEL_COST_MAP=True so an imported litellm never fetches prices either.
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

from sophia_cli.core.squad.models import CompletionRequest, Deployment

_MAP_FILE = "model_prices_and_context_window_backup.json"
PER_MTOK = 1_000_000


class Price(BaseModel):
    """USD per million input and output tokens, and where the figures came from."""

    input_per_mtok: float
    output_per_mtok: float
    source: Literal["config", "litellm"]

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """The cost of a call with these token counts."""
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / PER_MTOK


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


def _map_entry(model: str) -> dict[str, Any] | None:
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


def price_for(deployment: Deployment) -> Price | None:
    """The deployment's price, or None when neither the config nor the map knows it."""
    config_in, config_out = deployment.input_cost_per_mtok, deployment.output_cost_per_mtok
    if config_in is not None and config_out is not None:
        return Price(input_per_mtok=config_in, output_per_mtok=config_out, source="config")
    entry = _map_entry(deployment.model)
    if entry is None:
        return None
    map_in = float(entry.get("input_cost_per_token") or 0) * PER_MTOK
    map_out = float(entry.get("output_cost_per_token") or 0) * PER_MTOK
    source: Literal["config", "litellm"] = "litellm"
    if config_in is not None or config_out is not None:
        source = "config"  # one side from config, the other from the map
    return Price(
        input_per_mtok=config_in if config_in is not None else map_in,
        output_per_mtok=config_out if config_out is not None else map_out,
        source=source,
    )


def context_window(deployment: Deployment) -> int | None:
    """The configured context window, else the map's max input tokens."""
    if deployment.context_window is not None:
        return deployment.context_window
    entry = _map_entry(deployment.model)
    value = entry.get("max_input_tokens") if entry else None
    return int(value) if value else None


def _prompt_text(request: CompletionRequest) -> str:
    # Tools and the response format are sent with the prompt and billed as input.
    parts = [request.messages, request.tools, request.response_format]
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)


def estimate_tokens(request: CompletionRequest) -> int:
    """A typical prompt token count (about 4 characters a token), for order and context fit."""
    return math.ceil(len(_prompt_text(request)) / 4) + 3 * len(request.messages)


def max_input_tokens(request: CompletionRequest) -> int:
    """An upper bound on prompt tokens (no tokenizer emits more tokens than UTF-8 bytes).

    Budget reservations use it so a settled cost never exceeds what was reserved.
    """
    return len(_prompt_text(request).encode("utf-8")) + 3 * len(request.messages) + 8
