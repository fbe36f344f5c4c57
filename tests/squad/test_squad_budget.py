"""The daily budget: reservation and settlement arithmetic, refusals, alerts, rebuild."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fake_llm import FakeServer
from squad_helpers import deployments

from sophia_cli.core.errors import BudgetExceededError
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.squad import budget, router
from sophia_cli.core.squad.models import CompletionRequest
from sophia_cli.store import embedded_redis, pooled


def ask(text: str = "hello") -> CompletionRequest:
    return CompletionRequest(
        messages=[{"role": "user", "content": text}], max_tokens=20, use_cache=False
    )


def test_reservation_holds_then_settles_to_real_cost(settings: Settings) -> None:
    held = budget.reserve(settings, "litellm", 0.30, None)
    status = budget.budget_status(settings)
    assert (status.spent_usd, status.reserved_usd) == (0.0, pytest.approx(0.30))
    assert status.remaining_usd == pytest.approx(100 - 0.30)
    budget.settle(settings, held, 0.125)
    status = budget.budget_status(settings)
    assert (status.spent_usd, status.reserved_usd) == (pytest.approx(0.125), 0.0)
    assert status.remaining_usd == pytest.approx(100 - 0.125)
    assert status.squads["litellm"] == {"spent_usd": pytest.approx(0.125), "reserved_usd": 0.0}


def test_reservation_that_does_not_fit_is_refused(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", "1")
    small = load_settings()
    budget.reserve(small, "litellm", 0.70, None)
    with pytest.raises(BudgetExceededError, match=r"\$0.300000 left of \$1.00"):
        budget.reserve(small, "litellm", 0.31, None)
    budget.reserve(small, "litellm", 0.30, None)  # exactly what is left still fits
    assert budget.budget_status(small).remaining_usd == 0.0


def test_release_returns_the_whole_reservation(settings: Settings) -> None:
    held = budget.reserve(settings, "litellm", 2.0, None)
    budget.release(settings, held)
    status = budget.budget_status(settings)
    assert (status.spent_usd, status.reserved_usd) == (0.0, 0.0)


def test_squad_budget_limits_one_squad(settings: Settings) -> None:
    budget.reserve(settings, "aimlapi", 0.5, 0.6)
    with pytest.raises(BudgetExceededError, match="squad aimlapi's budget"):
        budget.reserve(settings, "aimlapi", 0.2, 0.6)
    budget.reserve(settings, "litellm", 0.2, None)  # the other squad is unaffected


def test_day_counter_is_namespaced_by_key_prefix(settings: Settings, redis_prefix: str) -> None:
    assert budget.day_key(settings, budget.today()).startswith(f"{redis_prefix}squad:budget:")


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


class Receiver(ThreadingHTTPServer):
    """A tiny webhook receiver that keeps every JSON body it is sent."""

    def __init__(self) -> None:
        bodies: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)
        self.bodies = bodies

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T000/B000/XXXX"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_alerts_fire_once_per_level_and_post_slack_shape(
    monkeypatch: pytest.MonkeyPatch, squad_env: dict[str, str], receiver: Receiver
) -> None:
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", "10")
    monkeypatch.setenv("SQUAD_ALERT_WEBHOOK", receiver.url)
    settings = load_settings()
    levels = []
    for amount in (4.0, 1.5, 0.5, 2.5, 0.5, 1.0):  # 4, 5.5, 6, 8.5, 9, 10
        held = budget.reserve(settings, "litellm", amount, None)
        crossed = budget.settle(settings, held, amount).crossed
        levels.append(crossed)
    assert levels == [[], [50], [], [80], [], [100]]


def test_alert_webhook_body_from_a_real_call(
    monkeypatch: pytest.MonkeyPatch, fake: FakeServer, squad_env: dict[str, str], receiver: Receiver
) -> None:
    reserve = router.route(load_settings(), ask()).candidates[0].reserve_usd
    assert reserve is not None
    budget_usd = reserve * 1.5
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", repr(budget_usd))
    monkeypatch.setenv("SQUAD_ALERT_WEBHOOK", receiver.url)
    # Cheap costs $1 per million input tokens: spend 60 % of the budget in one call.
    fake.script("cheap", {"prompt_tokens": round(budget_usd * 0.6 * 1e6), "completion_tokens": 0})
    router.complete(load_settings(), ask())
    assert len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert body["text"].startswith("sophia squad: 50% of today's LLM budget used")
    assert body["blocks"][0]["type"] == "section"
    assert body["sophia"]["level"] == 50


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
