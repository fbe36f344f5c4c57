"""The response cache and cooldowns shared through Redis across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from fake_llm import FakeServer

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import budget, cooldown, router
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.request import CompletionRequest

WORKER = Path(__file__).with_name("squad_worker.py")


def ask(text: str = "hello", **fields: Any) -> CompletionRequest:
    values = {"max_tokens": 20, "temperature": 0, **fields}
    return CompletionRequest(messages=[{"role": "user", "content": text}], **values)


def worker(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(WORKER), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_cache_hit_costs_nothing_and_skips_the_model(
    settings: Settings, fake: FakeServer, squad_env: dict[str, str]
) -> None:
    first = router.complete(settings, ask())
    spent = budget.budget_status(settings).spent_usd
    second = router.complete(settings, ask())
    assert (second.cache_hit, second.cost_usd, second.text) == (True, 0.0, first.text)
    assert second.routing.cache_hit and fake.calls("cheap") == 1
    assert budget.budget_status(settings).spent_usd == spent
    with psycopg.connect(squad_env["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT outcome, cache_hit, cost_usd FROM sophia.llm_calls ORDER BY id"
        ).fetchall()
    assert [(o, h, float(c)) for o, h, c in rows] == [
        ("ok", False, first.cost_usd),
        ("cache_hit", True, 0.0),
    ]


def test_no_cache_calls_the_model_again(settings: Settings, fake: FakeServer) -> None:
    router.complete(settings, ask())
    again = router.complete(settings, ask(use_cache=False))
    assert not again.cache_hit and fake.calls("cheap") == 2


def test_only_temperature_zero_answers_are_cached(settings: Settings, fake: FakeServer) -> None:
    for _ in range(2):
        router.complete(settings, ask(temperature=0.7))
        router.complete(settings, ask(temperature=None))  # the provider's default is 1
    assert fake.calls("cheap") == 4
    router.complete(settings, ask())
    assert router.complete(settings, ask()).cache_hit and fake.calls("cheap") == 5


def test_cache_key_depends_on_parameters_squad_and_pinned_model(
    settings: Settings, fake: FakeServer
) -> None:
    router.complete(settings, ask())
    router.complete(settings, ask(params={"stop": ["\n"]}))
    router.complete(settings, ask(params={"seed": 7}))
    router.complete(settings, ask(model="cheap"))
    router.complete(settings, ask(squad="litellm"))
    assert fake.calls("cheap") == 5


def test_retry_after_cools_deployment_down_for_that_long(
    settings: Settings, fake: FakeServer
) -> None:
    fake.script("cheap", {"status": 429, "retry_after": 40})
    router.complete(settings, ask(use_cache=False))
    left = cooldown.remaining_s(settings, "litellm", "cheap")
    assert 35 < left <= 40
    answer = router.complete(settings, ask("again", use_cache=False))
    assert answer.deployment == "mid" and fake.calls("cheap") == 1
    assert answer.routing.candidates[-1].reason.startswith("cooling down")


def test_repeated_failures_start_a_cooldown(settings: Settings, fake: FakeServer) -> None:
    options = load_squads(settings).router  # allowed_fails 2 by default
    fake.script("cheap", {"status": 500})
    router.complete(settings, ask("a", use_cache=False))  # one failure, then the retry answers
    assert cooldown.remaining_s(settings, "litellm", "cheap") == 0
    fake.script("cheap", {"status": 500}, {"status": 500})
    assert router.complete(settings, ask("b", use_cache=False)).deployment == "mid"
    # The cooldown (60 s) started at cheap's second failure; mid's whole call (HTTP, the
    # books in PostgreSQL) has run since, so allow a few seconds of a busy machine, as the
    # Retry-After test above does.
    left = cooldown.remaining_s(settings, "litellm", "cheap")
    assert options.cooldown_s - 5 < left <= options.cooldown_s


def test_cooldown_is_shared_with_another_process(settings: Settings, fake: FakeServer) -> None:
    fake.script("cheap", {"status": 429, "retry_after": 60})
    assert router.complete(settings, ask(use_cache=False)).deployment == "mid"
    other = worker("route-complete", "from the other process")
    planned, answered = other["route"], other["complete"]
    cheap = next(c for c in planned["candidates"] if c["deployment"] == "cheap")  # type: ignore[index]
    assert cheap["status"] == "skipped" and cheap["reason"].startswith("cooling down")
    assert answered["deployment"] == "mid"  # type: ignore[index]
    assert fake.calls("cheap") == 1  # the other process never called the cooling deployment
    cooldown.clear(settings, "litellm", "cheap")
    assert router.route(settings, ask()).candidates[0].status == "eligible"
