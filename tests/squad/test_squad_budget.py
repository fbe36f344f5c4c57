"""Budgets: holds and settlement, the day, squad, caller and feature scopes, 402 versus 429."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fake_llm import FakeServer
from squad_helpers import deployments

from sophia_cli.core.errors import BudgetExceededError
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.squad import budget, router
from sophia_cli.core.squad.budget import BudgetBusyError, Refusal, Reservation, Scope
from sophia_cli.core.squad.request import CallContext, CompletionRequest
from sophia_cli.store import embedded_redis, pooled

DAY = Scope("*", 1.0, "today's")


def ask(text: str = "hello", **fields: Any) -> CompletionRequest:
    values = {"max_tokens": 20, "use_cache": False, **fields}
    return CompletionRequest(messages=[{"role": "user", "content": text}], **values)


def hold(settings: Settings, usd: float, *scopes: Scope, hold_s: float = 60) -> Reservation:
    held = budget.reserve(settings, uuid.uuid4().hex, usd, list(scopes or (DAY,)), hold_s)
    assert isinstance(held, Reservation), held
    return held


def refusal(settings: Settings, usd: float, *scopes: Scope) -> Refusal:
    refused = budget.reserve(settings, uuid.uuid4().hex, usd, list(scopes or (DAY,)), 60)
    assert isinstance(refused, Refusal), refused
    return refused


def test_reservation_holds_then_settles_to_real_cost(settings: Settings) -> None:
    held = hold(settings, 0.30, Scope("*", 100, "today's"), Scope("squad:litellm", None, "s"))
    status = budget.budget_status(settings)
    assert (status.spent_usd, status.reserved_usd, status.in_flight) == (0.0, 0.30, 1)
    assert status.remaining_usd == pytest.approx(100 - 0.30)
    budget.settle(settings, held, 0.125)
    status = budget.budget_status(settings)
    assert (status.spent_usd, status.reserved_usd, status.in_flight) == (0.125, 0.0, 0)
    assert status.squads["litellm"] == {"spent_usd": 0.125, "reserved_usd": 0.0}


def test_spent_budget_refuses_with_402(settings: Settings) -> None:
    budget.settle(settings, hold(settings, 0.70), 0.70)
    refused = refusal(settings, 0.31)
    assert isinstance(refused.error, BudgetExceededError)
    assert not isinstance(refused.error, BudgetBusyError)
    assert "$0.300000 left of $1.00" in refused.error.message
    hold(settings, 0.30)  # exactly what is left still fits


def test_budget_held_only_by_calls_in_flight_refuses_with_429(settings: Settings) -> None:
    hold(settings, 0.80)
    refused = refusal(settings, 0.30)
    assert isinstance(refused.error, BudgetBusyError)
    assert refused.error.http_status == 429 and refused.error.retry_after_s > 0
    assert "held by calls in flight" in refused.error.message


def test_first_refusal_of_the_day_fires_the_100_percent_alert_once(settings: Settings) -> None:
    hold(settings, 0.90)
    assert refusal(settings, 0.50).alerted
    assert not refusal(settings, 0.50).alerted
    assert 100 in budget.budget_status(settings).alerts_crossed


def test_release_returns_the_whole_reservation(settings: Settings) -> None:
    budget.release(settings, hold(settings, 0.5))
    status = budget.budget_status(settings)
    assert (status.spent_usd, status.reserved_usd) == (0.0, 0.0)


def test_squad_caller_and_feature_budgets_limit_only_their_own_scope(settings: Settings) -> None:
    day = Scope("*", 100, "today's")
    alice = Scope("caller:alice", 0.5, "caller alice's")
    reports = Scope("feature:reports", 0.7, "feature reports's")
    budget.settle(settings, hold(settings, 0.4, day, alice, reports), 0.4)
    assert "caller alice's" in refusal(settings, 0.2, day, alice).error.message
    hold(settings, 0.2, day, Scope("caller:bob", 0.5, "caller bob's"), reports)
    assert "feature reports's" in refusal(settings, 0.2, day, reports).error.message
    status = budget.budget_status(settings)
    assert status.callers["alice"]["spent_usd"] == pytest.approx(0.4)
    assert status.callers["bob"]["reserved_usd"] == pytest.approx(0.2)
    assert status.features["reports"] == {"spent_usd": 0.4, "reserved_usd": 0.2}


def test_a_hold_nobody_settles_is_charged_in_full_when_it_expires(settings: Settings) -> None:
    forgotten = hold(settings, 0.25, hold_s=0.05)  # a killed process never settles this
    time.sleep(0.1)
    hold(settings, 0.01)  # any reservation reaps expired holds first
    status = budget.budget_status(settings)
    assert (status.spent_usd, status.reserved_usd) == (0.25, 0.01)
    budget.settle(settings, forgotten, 0.05)  # it did settle, late: the estimate is corrected
    assert budget.budget_status(settings).spent_usd == pytest.approx(0.05)


def test_day_counter_keys_share_one_hash_tag_under_the_prefix(
    settings: Settings, redis_prefix: str
) -> None:
    counter, holds = budget.day_keys(settings, budget.today())
    assert counter.startswith(f"{redis_prefix}squad:budget:")
    tag = counter[counter.index("{") : counter.index("}") + 1]
    assert tag == holds[holds.index("{") : holds.index("}") + 1] and redis_prefix in tag


def test_call_that_does_not_fit_is_refused_and_logged(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, fake: FakeServer, squad_env: dict[str, str]
) -> None:
    reserve = router.route(settings, ask()).candidates[0].reserve_usd
    assert reserve is not None
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", str(reserve * 0.9))
    with pytest.raises(BudgetExceededError, match="no capable deployment fits the budget"):
        router.complete(load_settings(), ask())
    assert fake.calls("cheap") == 0
    with psycopg.connect(squad_env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT outcome, cost_usd FROM sophia.llm_calls").fetchall()
    assert [(outcome, float(cost)) for outcome, cost in rows] == [("budget_exceeded", 0.0)]


def test_caller_over_budget_is_refused_while_others_are_served(
    fake: FakeServer, squad_env: dict[str, str], write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    write_squads(
        {
            "budgets": {"callers": {"default": 1.0, "greedy": 1e-6}},
            "squads": {"litellm": {"primary": True, "deployments": deployments(fake)[:1]}},
        }
    )
    settings = load_settings()
    with pytest.raises(BudgetExceededError, match="caller greedy's budget"):
        router.complete(settings, ask(), CallContext(caller="greedy"))
    assert router.complete(settings, ask(), CallContext(caller="modest")).deployment == "cheap"


def test_over_budget_squad_falls_back_to_secondary_squad(
    fake: FakeServer, squad_env: dict[str, str], write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    write_squads(
        {
            "squads": {
                "litellm": {
                    "primary": True,
                    "daily_budget_usd": 1e-7,
                    "deployments": deployments(fake)[:1],
                },
                "aimlapi": {"deployments": deployments(fake)[1:2]},
            }
        }
    )
    answer = router.complete(load_settings(), ask())
    assert (answer.squad, answer.deployment) == ("aimlapi", "mid")
    assert "squad litellm's budget" in answer.routing.candidates[0].reason


def test_spend_recorded_matches_settled_counter(
    settings: Settings, fake: FakeServer, squad_env: dict[str, str]
) -> None:
    fake.script("cheap", {"prompt_tokens": 7, "completion_tokens": 3})
    first = router.complete(settings, ask("one"))
    second = router.complete(settings, ask("two"))
    status = budget.budget_status(settings)
    assert status.spent_usd == pytest.approx(first.cost_usd + second.cost_usd)
    assert first.cost_usd == pytest.approx((7 * 1 + 3 * 2) / 1e6)
    with psycopg.connect(squad_env["DATABASE_URL"]) as conn:
        ((total, reserved),) = conn.execute(
            "SELECT sum(cost_usd), sum(reserved_usd) FROM sophia.llm_calls WHERE outcome = 'ok'"
        ).fetchall()
    assert float(total) == pytest.approx(status.spent_usd)
    assert float(reserved) >= float(total)


def test_counter_is_rebuilt_from_spend_log_after_flushall(
    monkeypatch: pytest.MonkeyPatch, fake: FakeServer, squad_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "valkey-home"
    home.mkdir()
    url = embedded_redis.ensure_running(home)  # never FLUSHALL the shared Redis
    try:
        monkeypatch.setenv("REDIS_URL", url)
        settings = load_settings()
        fake.script("cheap", default={"prompt_tokens": 11, "completion_tokens": 4})
        costs = [router.complete(settings, ask(f"q{i}")).cost_usd for i in range(3)]
        before = budget.budget_status(settings)
        assert before.spent_usd == pytest.approx(sum(costs)) and not before.rebuilt

        pooled.redis_client(settings).flushall()
        costs.append(router.complete(settings, ask("first after the flush")).cost_usd)
        assert budget.budget_status(settings).spent_usd == pytest.approx(sum(costs))

        pooled.redis_client(settings).flushall()
        after = budget.budget_status(settings)
        assert after.rebuilt
        assert after.spent_usd == pytest.approx(sum(costs))
        assert after.squads["litellm"]["spent_usd"] == pytest.approx(sum(costs))
    finally:
        pooled.close_all()
        embedded_redis.stop(home)
