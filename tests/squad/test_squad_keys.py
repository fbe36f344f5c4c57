"""`any_keyed`: whether a model could be called, known before routing (ask asks it first).

It may say True when unsure (routing then decides), never False while a deployment has
what it needs to be called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sophia_cli.core.settings import load_settings
from sophia_cli.core.squad.keys import any_keyed
from sophia_cli.core.squad.request import CompletionRequest
from sophia_cli.core.squad.router import route

Write = Callable[[dict[str, Any]], Path]


def test_built_in_squads_without_any_key_cannot_be_called() -> None:
    assert any_keyed(load_settings()) is False


def test_routing_agrees_that_no_deployment_has_a_key(stores_env: dict[str, str]) -> None:
    record = route(load_settings(), CompletionRequest(messages=[{"role": "user", "content": "."}]))
    assert record.candidates
    assert all(c.status == "skipped" and c.reason.startswith("no key") for c in record.candidates)


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "AIMLAPI_API_KEY"])
def test_one_key_of_the_built_in_squads_is_enough(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "sk-test")
    assert any_keyed(load_settings()) is True


def test_the_litellm_proxy_needs_its_own_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITELLM_API_BASE", "http://127.0.0.1:4000")
    assert any_keyed(load_settings()) is False
    monkeypatch.setenv("LITELLM_API_KEY", "sk-proxy")
    assert any_keyed(load_settings()) is True


def test_a_deployment_that_names_no_key_variable_needs_none(write_squads: Write) -> None:
    local = {"name": "local", "model": "openai/local", "api_base": "http://127.0.0.1:9/v1"}
    write_squads({"squads": {"local": {"primary": True, "deployments": [local]}}})
    assert any_keyed(load_settings()) is True


def test_a_key_variable_of_a_users_own_squads_file_counts(
    write_squads: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    dep = {"name": "m", "model": "openai/m", "api_key_env": "MY_PROVIDER_KEY"}
    write_squads({"squads": {"mine": {"primary": True, "deployments": [dep]}}})
    assert any_keyed(load_settings()) is False
    monkeypatch.setenv("MY_PROVIDER_KEY", "k")
    assert any_keyed(load_settings()) is True


def test_a_file_it_cannot_read_is_left_to_the_router(write_squads: Write) -> None:
    write_squads({}).write_text("squads: [not, a, mapping\n")
    assert any_keyed(load_settings()) is True
