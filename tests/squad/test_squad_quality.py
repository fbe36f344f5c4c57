"""The quality-aware router: easy prompts to the cheap tier, hard ones to the strong tier."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fake_llm import FakeServer
from squad_helpers import deployments

from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.squad import quality, router
from sophia_cli.core.squad.request import CompletionRequest

EASY = "hi, what day is it?"
HARD = (
    "Prove step by step why the design below is optimal, compare the trade-offs and "
    "explain the root cause of the bug. You must keep the API exactly as it is:\n"
    "```python\ndef churn(rows):\n    return sum(r['lost'] for r in rows) / len(rows)\n```\n"
    "1. analyse it\n2. refactor it\n3. derive the complexity"
)


def ask(text: str, **fields: Any) -> CompletionRequest:
    return CompletionRequest(messages=[{"role": "user", "content": text}], max_tokens=50, **fields)


def enable(
    fake: FakeServer, write_squads: Callable[[dict[str, Any]], Path], **options: Any
) -> Settings:
    write_squads(
        {
            "quality": {"enabled": True, **options},
            "squads": {"litellm": {"primary": True, "deployments": deployments(fake)}},
        }
    )
    return load_settings()


def test_it_is_off_by_default(settings: Settings) -> None:
    record = router.route(settings, ask(HARD))
    assert record.quality is None and record.candidates[0].deployment == "cheap"


def test_hard_prompts_go_to_the_strong_tier_and_easy_ones_stay_cheap(
    squad_env: dict[str, str], fake: FakeServer, write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    settings = enable(fake, write_squads)
    hard = router.complete(settings, ask(HARD))
    assert hard.deployment == "pricey"  # the only deployment able to reason
    assert hard.routing.quality is not None and hard.routing.quality.tier == "strong"
    skipped = {c.deployment: c.reason for c in hard.routing.candidates if c.status == "skipped"}
    assert skipped["cheap"].startswith("quality router: hard prompt")
    easy = router.complete(settings, ask(EASY))
    assert easy.deployment == "cheap" and easy.routing.quality is not None
    assert easy.routing.quality.tier == "cheap" and easy.routing.quality.score < 0.5


def test_the_score_rises_with_what_makes_a_prompt_hard() -> None:
    easy = quality.score(quality.features(EASY))
    hard = quality.score(quality.features(HARD))
    assert 0 <= easy < 0.5 <= hard <= 1


def test_user_rules_decide_before_the_scorer(
    squad_env: dict[str, str], fake: FakeServer, write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    settings = enable(
        fake,
        write_squads,
        rules=[
            {"tier": "strong", "pattern": "(?i)contract"},
            {"tier": "cheap", "pattern": "(?i)^summari[sz]e"},
        ],
    )
    legal = router.route(settings, ask("Is this contract clause enforceable?"))
    assert legal.quality is not None and legal.quality.rule is not None
    assert legal.quality.rule.startswith("rule 1") and legal.candidates[0].deployment == "pricey"
    summary = router.route(settings, ask("Summarise: " + HARD))
    assert summary.quality is not None and summary.quality.tier == "cheap"
    assert summary.candidates[0].deployment == "cheap"


def test_the_strong_tier_can_be_listed(
    squad_env: dict[str, str], fake: FakeServer, write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    settings = enable(fake, write_squads, strong=["mid"])
    assert router.route(settings, ask(HARD)).candidates[0].deployment == "mid"


def test_a_pinned_model_is_not_second_guessed(
    squad_env: dict[str, str], fake: FakeServer, write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    settings = enable(fake, write_squads)
    record = router.route(settings, ask(HARD, model="cheap"))
    assert record.quality is None and record.candidates[0].deployment == "cheap"


def test_route_explain_shows_the_decision(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], fake: FakeServer, write_squads
) -> None:
    enable(fake, write_squads)
    r = sophia("squad", "route", HARD, "--explain", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "quality router: strong tier (score" in r.stderr and "reasoning" in r.stderr
    assert "would route to litellm/pricey" in r.stderr
