"""Budget alerts: queued by the call that crossed a level, posted off its path, retried."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from fake_llm import FakeServer

from sophia_cli.core.errors import BudgetExceededError
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.squad import alerts, budget, router
from sophia_cli.core.squad.budget import Reservation, Scope
from sophia_cli.core.squad.request import CompletionRequest


class Receiver(ThreadingHTTPServer):
    """A webhook that keeps what it is sent; it can fail or dawdle first."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.failures_left = 0
        self.delay_s = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                time.sleep(receiver.delay_s)
                status = 500 if receiver.failures_left > 0 else 200
                receiver.failures_left -= 1
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)

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


@pytest.fixture
def alerting(
    monkeypatch: pytest.MonkeyPatch, squad_env: dict[str, str], receiver: Receiver
) -> Settings:
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", "10")
    monkeypatch.setenv("SQUAD_ALERT_WEBHOOK", receiver.url)
    return load_settings()


def spend(settings: Settings, usd: float) -> list[int]:
    held = budget.reserve(settings, uuid.uuid4().hex, usd, [Scope("*", 10, "today's")], 60)
    assert isinstance(held, Reservation)
    crossed = budget.settle(settings, held, usd).crossed
    alerts.enqueue(settings, held.day, crossed, budget.budget_status(settings).spent_usd)
    return crossed


def outbox(settings: Settings) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.secret_value("database_url") or "") as conn:
        return conn.execute(
            "SELECT level, attempts, sent_at IS NOT NULL, failed_at IS NOT NULL, last_error "
            "FROM sophia.squad_alerts ORDER BY level"
        ).fetchall()


def test_each_level_is_crossed_once_a_day(alerting: Settings) -> None:
    crossed = [spend(alerting, usd) for usd in (4.0, 1.5, 0.5, 2.5, 0.5, 1.0)]
    assert crossed == [[], [50], [], [80], [], [100]]


def test_the_call_only_queues_and_the_sender_posts_slack_shape(
    alerting: Settings, receiver: Receiver
) -> None:
    spend(alerting, 5.5)
    assert receiver.bodies == [] and outbox(alerting) == [(50, 0, False, False, None)]
    assert alerts.deliver_due(alerting) == 1
    (body,) = receiver.bodies
    assert body["text"].startswith("sophia squad: 50% of today's LLM budget used")
    assert body["blocks"][0]["type"] == "section" and body["sophia"]["level"] == 50
    assert outbox(alerting) == [(50, 1, True, False, None)]
    assert alerts.deliver_due(alerting) == 0  # sent once


def test_a_failing_webhook_is_retried_with_backoff_until_it_accepts(
    alerting: Settings, receiver: Receiver
) -> None:
    receiver.failures_left = 2
    spend(alerting, 8.5)
    assert alerts.deliver_due(alerting) == 0
    ((level, attempts, sent, failed, error),) = outbox(alerting)[-1:]
    assert (level, attempts, sent, failed) == (80, 1, False, False) and "500" in error
    assert alerts.deliver_due(alerting) == 0  # not due yet: backing off
    for _ in range(2):
        _make_due(alerting)
        alerts.deliver_due(alerting)
    assert [b["sophia"]["level"] for b in receiver.bodies] == [50, 80]
    assert all(sent for _, _, sent, _, _ in outbox(alerting))


def test_an_alert_is_given_up_after_its_last_attempt(
    alerting: Settings, receiver: Receiver
) -> None:
    receiver.failures_left = 100
    spend(alerting, 5.5)
    for _ in range(alerts.MAX_ATTEMPTS):
        _make_due(alerting)
        alerts.deliver_due(alerting)
    ((level, attempts, sent, failed, error),) = outbox(alerting)
    assert (level, attempts, sent, failed) == (50, alerts.MAX_ATTEMPTS, False, True)
    assert "500" in error
    _make_due(alerting)
    assert alerts.deliver_due(alerting) == 0  # given up: not tried again


def _make_due(settings: Settings) -> None:
    with psycopg.connect(settings.secret_value("database_url") or "") as conn:
        conn.execute("UPDATE sophia.squad_alerts SET next_at = now() WHERE sent_at IS NULL")


def test_the_first_refusal_queues_the_100_percent_alert(
    monkeypatch: pytest.MonkeyPatch, alerting: Settings, fake: FakeServer, receiver: Receiver
) -> None:
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", "0.000001")
    request = CompletionRequest(messages=[{"role": "user", "content": "x"}], max_tokens=500)
    with pytest.raises(BudgetExceededError):
        router.complete(load_settings(), request)
    assert [row[0] for row in outbox(alerting)] == [100]
    alerts.deliver_due(load_settings())
    assert receiver.bodies[0]["sophia"]["refused"] is True
    assert "calls are being refused" in receiver.bodies[0]["text"]


def test_a_slow_webhook_never_holds_up_the_call_that_crossed(
    monkeypatch: pytest.MonkeyPatch, alerting: Settings, fake: FakeServer, receiver: Receiver
) -> None:
    receiver.delay_s = 5.0
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", "0.0009")
    fake.script("cheap", {"prompt_tokens": 500, "completion_tokens": 0})  # $0.0005: 55 %
    request = CompletionRequest(messages=[{"role": "user", "content": "x"}], max_tokens=20)
    answer = router.complete(load_settings(), request)
    assert answer.deployment == "cheap"
    assert receiver.bodies == [] and [row[0] for row in outbox(alerting)] == [50]


def test_the_server_sender_delivers_in_the_background(
    alerting: Settings, receiver: Receiver
) -> None:
    spend(alerting, 5.5)

    async def run_sender() -> None:
        stopping = asyncio.Event()
        task = asyncio.create_task(alerts.sender(alerting, stopping, every_s=0.1))
        for _ in range(100):
            if receiver.bodies:
                break
            await asyncio.sleep(0.05)
        stopping.set()
        await task

    asyncio.run(run_sender())
    assert [b["sophia"]["level"] for b in receiver.bodies] == [50]
