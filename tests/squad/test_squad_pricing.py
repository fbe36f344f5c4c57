"""Prices: LiteLLM's cost calculator with its cached-prompt and long-context tiers, the squads
file overriding it key by key, and reservations that no real call can exceed."""

from __future__ import annotations

import pytest

from sophia_cli.core.squad import llm, pricing
from sophia_cli.core.squad.models import Deployment
from sophia_cli.core.squad.request import CompletionRequest


@pytest.fixture(scope="module")
def litellm() -> object:
    return llm.load_litellm()


def usage(prompt: int, completion: int, cached: int = 0) -> object:
    from litellm.types.utils import PromptTokensDetailsWrapper, Usage

    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        prompt_tokens_details=PromptTokensDetailsWrapper(cached_tokens=cached),
    )


def test_long_claude_prompts_cost_the_long_context_tier(litellm: object) -> None:
    claude = Deployment(name="c", model="anthropic/claude-sonnet-4-5")
    long_call = usage(300_000, 1_000)
    ours = pricing.actual_cost(claude, long_call)
    theirs = sum(litellm.cost_per_token(model=claude.model, usage_object=long_call))  # type: ignore[attr-defined]
    flat = pricing.price_for(claude)
    assert flat is not None
    assert ours == pytest.approx(theirs)
    assert ours > 1.9 * (300_000 * flat.input_per_mtok + 1_000 * flat.output_per_mtok) / 1e6


def test_cached_prompt_tokens_cost_the_cached_price(litellm: object) -> None:
    mini = Deployment(name="m", model="openai/gpt-4o-mini")
    cached_call = usage(10_000, 100, cached=8_000)
    ours = pricing.actual_cost(mini, cached_call)
    theirs = sum(litellm.cost_per_token(model=mini.model, usage_object=cached_call))  # type: ignore[attr-defined]
    flat = pricing.price_for(mini)
    assert flat is not None
    assert ours == pytest.approx(theirs)
    assert flat.cost(10_000, 100) > 1.5 * ours  # flat prices would over-charge this call


def test_the_squads_file_overrides_the_map_key_by_key(litellm: object) -> None:
    mini = Deployment(
        name="m",
        model="openai/gpt-4o-mini",
        input_cost_per_mtok=1.0,
        cached_input_cost_per_mtok=0.1,
    )
    cost = pricing.actual_cost(mini, usage(10_000, 100, cached=8_000))
    map_output = pricing.map_entry("openai/gpt-4o-mini")["output_cost_per_token"]  # type: ignore[index]
    assert cost == pytest.approx((2_000 * 1.0 + 8_000 * 0.1) / 1e6 + 100 * map_output)
    price = pricing.price_for(mini)
    assert price is not None and price.source == "config"


def test_a_model_only_the_file_prices_is_priced_from_the_file(litellm: object) -> None:
    house = Deployment(
        name="h", model="openai/house-model", input_cost_per_mtok=2.0, output_cost_per_mtok=8.0
    )
    assert pricing.actual_cost(house, usage(1_000, 500)) == pytest.approx(
        (1_000 * 2 + 500 * 8) / 1e6
    )


def test_a_reservation_covers_the_real_cost_even_in_the_long_tier(litellm: object) -> None:
    claude = Deployment(name="c", model="anthropic/claude-sonnet-4-5")
    prompt = "word " * 60_000  # ~300,000 bytes
    request = CompletionRequest(messages=[{"role": "user", "content": prompt}], max_tokens=2_000)
    price = pricing.price_for(claude)
    assert price is not None
    reserved = price.worst_cost(pricing.max_input_tokens(request), 2_000)
    # Whatever the tokenizer says, it cannot count more tokens than bytes.
    worst_real = pricing.actual_cost(claude, usage(pricing.max_input_tokens(request), 2_000))
    assert reserved >= worst_real


def test_output_limit_comes_from_the_file_else_the_map() -> None:
    assert pricing.output_limit(Deployment(name="m", model="openai/gpt-4o-mini")) == 16384
    pinned = Deployment(name="m", model="openai/gpt-4o-mini", max_output_tokens=500)
    assert pricing.output_limit(pinned) == 500
    assert pricing.output_limit(Deployment(name="x", model="openai/unknown-zz")) is None


def test_each_image_is_reserved_as_a_large_prompt() -> None:
    text = CompletionRequest(messages=[{"role": "user", "content": "what is this"}])
    image = CompletionRequest(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
                ],
            }
        ]
    )
    assert pricing.max_input_tokens(image) - pricing.max_input_tokens(text) >= (
        pricing.IMAGE_TOKENS
    )
