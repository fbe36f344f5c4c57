"""Deployments served by the fake LLM server, shared by the squad tests."""

from __future__ import annotations

from typing import Any

from fake_llm import FakeServer

# Three tiers with config prices (USD per million tokens), cheapest first.
TIERS: list[dict[str, Any]] = [
    {
        "name": "cheap",
        "capabilities": ["chat"],
        "input_cost_per_mtok": 1.0,
        "output_cost_per_mtok": 2.0,
        "max_output_tokens": 4096,
    },
    {
        "name": "mid",
        "capabilities": ["chat", "code"],
        "input_cost_per_mtok": 5.0,
        "output_cost_per_mtok": 10.0,
        "max_output_tokens": 4096,
    },
    {
        "name": "pricey",
        "capabilities": ["chat", "code", "reasoning"],
        "input_cost_per_mtok": 50.0,
        "output_cost_per_mtok": 100.0,
        "max_output_tokens": 4096,
    },
]


def deployments(
    fake: FakeServer, tiers: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Deployments served by the fake: model `openai/<name>` at the fake's api_base."""
    return [
        {
            "model": f"openai/{tier['name']}",
            "api_base": fake.url,
            "api_key_env": "OPENAI_API_KEY",
            **tier,
        }
        for tier in (tiers if tiers is not None else TIERS)
    ]
