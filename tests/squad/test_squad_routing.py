"""Routing: cheapest capable first, capability filter, fallbacks, errors that stop."""

from __future__ import annotations

from typing import Any

import pytest
from fake_llm import FakeServer
from squad_helpers import deployments

from sophia_cli.core.errors import ConfigError, UpstreamError, UsageError
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.squad import router
from sophia_cli.core.squad.request import CompletionRequest


def ask(text: str = "hello", **fields: Any) -> CompletionRequest:
    values = {"max_tokens": 20, **fields}
    return CompletionRequest(messages=[{"role": "user", "content": text}], **values)


def test_cheapest_capable_deployment_answers(settings: Settings, fake: FakeServer) -> None:
    answer = router.complete(settings, ask())
    assert (answer.deployment, answer.model, answer.text) == (
        "cheap",
        "openai/cheap",
        "answer from cheap",
    )
    assert fake.calls("cheap") == 1 and fake.calls("mid") == 0


def test_cost_is_usage_times_config_price(settings: Settings, fake: FakeServer) -> None:
    fake.script("cheap", {"prompt_tokens": 1000, "completion_tokens": 500})
    answer = router.complete(settings, ask(max_tokens=1000))
    assert (answer.tokens_in, answer.tokens_out) == (1000, 500)
    assert answer.cost_usd == pytest.approx((1000 * 1.0 + 500 * 2.0) / 1e6)


def test_capability_filter_skips_incapable_deployments(
    settings: Settings, fake: FakeServer
) -> None:
    answer = router.complete(settings, ask(capabilities=["code"]))
    assert answer.deployment == "mid"
    skipped = {c.deployment: c.reason for c in answer.routing.candidates if c.status == "skipped"}
    assert skipped == {"cheap": "lacks capability code"}


def test_route_orders_eligible_candidates_by_estimated_cost(settings: Settings) -> None:
    record = router.route(settings, ask())
    names = [c.deployment for c in record.candidates]
    costs = [c.estimated_cost_usd for c in record.candidates]
    assert names == ["cheap", "mid", "pricey"]
    assert costs == sorted(costs)  # type: ignore[type-var]
    assert all(c.reserve_usd >= c.estimated_cost_usd for c in record.candidates)  # type: ignore[operator]


def test_a_transient_error_is_retried_once_on_the_same_deployment(
    settings: Settings, fake: FakeServer
) -> None:
    fake.script("cheap", {"status": 500})
    answer = router.complete(settings, ask())
    assert answer.deployment == "cheap" and fake.calls("cheap") == 2
    assert answer.routing.candidates[0].attempts == 2


def test_fallback_goes_to_next_cheapest_after_the_retry_then_on_429(
    settings: Settings, fake: FakeServer
) -> None:
    fake.script("cheap", {"status": 500}, {"status": 502})
    fake.script("mid", {"status": 429, "retry_after": 30})
    answer = router.complete(settings, ask())
    assert answer.deployment == "pricey"
    statuses = [(c.deployment, c.status, c.attempts) for c in answer.routing.candidates]
    assert statuses == [("cheap", "failed", 2), ("mid", "failed", 1), ("pricey", "chosen", 1)]
    assert "429" in answer.routing.candidates[1].reason
    assert fake.calls("mid") == 1  # a Retry-After is a cooldown, not a retry


def test_timeout_falls_back(settings: Settings, fake: FakeServer, write_squads) -> None:  # type: ignore[no-untyped-def]
    write_squads(
        {
            "router": {"timeout_s": 1.5},
            "squads": {"litellm": {"primary": True, "deployments": deployments(fake)}},
        }
    )
    fake.script("cheap", {"delay_s": 3})
    answer = router.complete(load_settings(), ask())
    assert answer.deployment == "mid"
    assert "Timeout" in answer.routing.candidates[0].reason


def test_bad_request_stops_without_fallback(settings: Settings, fake: FakeServer) -> None:
    fake.script("cheap", {"status": 400})
    with pytest.raises(UsageError, match="litellm/cheap rejected the request"):
        router.complete(settings, ask())
    assert fake.calls("mid") == 0 and fake.calls("cheap") == 1


def test_rejected_key_stops_with_the_variable_named(settings: Settings, fake: FakeServer) -> None:
    fake.script("cheap", {"status": 401})
    with pytest.raises(UpstreamError, match="refused the request") as caught:
        router.complete(settings, ask())
    assert "OPENAI_API_KEY" in caught.value.hint


def test_all_deployments_failing_is_an_upstream_error(settings: Settings, fake: FakeServer) -> None:
    for name in ("cheap", "mid", "pricey"):
        fake.script(name, {"status": 503}, {"status": 503})
    with pytest.raises(UpstreamError, match="every capable deployment failed"):
        router.complete(settings, ask())


def test_unknown_capability_is_a_usage_error(settings: Settings) -> None:
    with pytest.raises(UsageError, match="unknown capability telepathy"):
        router.route(settings, ask(capabilities=["telepathy"]))


def test_missing_key_names_the_variable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):
        router.complete(load_settings(), ask())


def test_missing_key_is_a_skip_reason_in_the_plan(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    record = router.route(load_settings(), ask())
    assert {c.reason for c in record.candidates} == {"no key: OPENAI_API_KEY is not set"}


def test_litellm_squad_goes_through_the_proxy_when_configured(  # type: ignore[no-untyped-def]
    squad_env: dict[str, str], fake: FakeServer, write_squads, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_squads(
        {
            "squads": {
                "litellm": {
                    "primary": True,
                    "deployments": [
                        {
                            "name": "mini",
                            "model": "openai/gpt-4o-mini",
                            "api_key_env": "OPENAI_API_KEY",
                        }
                    ],
                }
            }
        }
    )
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("LITELLM_API_BASE", fake.url)
    monkeypatch.setenv("LITELLM_API_KEY", "sk-litellm-proxy")
    answer = router.complete(load_settings(), ask())
    assert answer.deployment == "mini"
    assert fake.calls("openai/gpt-4o-mini") == 1
