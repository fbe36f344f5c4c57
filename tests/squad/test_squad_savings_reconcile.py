"""Savings against a baseline model, and reconciling our books with the provider's usage report."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_llm import ADMIN_KEY, FakeServer
from squad_helpers import deployments

from sophia_cli.core.errors import UpstreamError
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.squad import budget, router
from sophia_cli.core.squad.reconcile import reconcile
from sophia_cli.core.squad.reports import savings_report
from sophia_cli.core.squad.request import CompletionRequest


def ask(text: str, **fields: Any) -> CompletionRequest:
    return CompletionRequest(messages=[{"role": "user", "content": text}], max_tokens=60, **fields)


@pytest.fixture
def books(
    squad_env: dict[str, str],
    fake: FakeServer,
    write_squads: Callable[[dict[str, Any]], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    monkeypatch.setenv("FAKE_ADMIN_KEY", ADMIN_KEY)
    cheap, mid = deployments(fake)[:2]
    for tier in (cheap, mid):
        tier.update(usage_api="openai", admin_key_env="FAKE_ADMIN_KEY")
        fake.price(tier["name"], tier["input_cost_per_mtok"], tier["output_cost_per_mtok"])
    write_squads(
        {
            "router": {"timeout_s": 2.5},  # slack for a loaded CI machine
            "savings": {"input_cost_per_mtok": 10.0, "output_cost_per_mtok": 20.0},
            "squads": {"litellm": {"primary": True, "deployments": [cheap, mid]}},
        }
    )
    fake.script("cheap", default={"prompt_tokens": 100, "completion_tokens": 50})
    fake.script("mid", default={"prompt_tokens": 100, "completion_tokens": 50})
    return load_settings()


def test_savings_are_baseline_minus_paid_with_the_cache_apart(books: Settings) -> None:
    router.complete(books, ask("same question", temperature=0))
    router.complete(books, ask("same question", temperature=0))  # from the cache
    report = savings_report(books, days=1)
    baseline_one = (100 * 10 + 50 * 20) / 1e6
    paid = (100 * 1 + 50 * 2) / 1e6
    assert (report.baseline_usd, report.actual_usd) == pytest.approx((2 * baseline_one, paid))
    assert report.routing_savings_usd == pytest.approx(baseline_one - paid)
    assert report.cache_savings_usd == pytest.approx(baseline_one)
    assert report.savings_percent == pytest.approx(
        100 * (2 * baseline_one - paid) / (2 * baseline_one)
    )
    assert (report.rows[0].calls, report.rows[0].cache_hits) == (2, 1)


def test_failed_attempts_count_against_the_savings(books: Settings, fake: FakeServer) -> None:
    fake.script("cheap", {"delay_s": 5})  # times out: charged its reservation, then mid answers
    router.complete(books, ask("slow"))
    report = savings_report(books, days=1)
    assert report.estimated_calls == 1
    assert report.actual_usd > (100 * 5 + 50 * 10) / 1e6  # mid's cost plus cheap's estimate


def test_reconcile_compares_and_corrects_estimates_with_the_usage_report(
    books: Settings, fake: FakeServer
) -> None:
    router.complete(books, ask("exact"))
    fake.script("cheap", {"delay_s": 5})
    router.complete(books, ask("timed out, then mid"))
    fake.wait_idle()
    report = reconcile(books)
    rows = {row.deployment: row for row in report.rows}
    assert rows["cheap"].provider_requests == rows["cheap"].our_requests == 2
    assert rows["cheap"].estimated_rows == 1 and rows["cheap"].difference_usd < 0
    assert rows["mid"].difference_usd == pytest.approx(0, abs=1e-8)
    assert report.provider_total_usd == pytest.approx(fake.bill_usd())

    applied = reconcile(books, apply=True)
    assert [row.adjusted for row in applied.rows if row.deployment == "cheap"] == [True]
    again = reconcile(books)
    assert all(row.difference_usd == pytest.approx(0, abs=1e-8) for row in again.rows)
    assert again.our_total_usd == pytest.approx(fake.bill_usd())
    assert budget.budget_status(books).spent_usd == pytest.approx(fake.bill_usd())


def test_deployments_without_a_usage_api_are_listed_as_skipped(settings: Settings) -> None:
    report = reconcile(settings)
    assert report.rows == []
    assert set(report.skipped) == {"litellm/cheap", "litellm/mid", "litellm/pricey"}


def test_a_wrong_admin_key_is_one_clear_error(
    books: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ADMIN_KEY", "sk-admin-wrong")
    with pytest.raises(UpstreamError, match="usage report .* could not be read: HTTPStatusError"):
        reconcile(load_settings())


def test_savings_and_reconcile_commands(  # type: ignore[no-untyped-def]
    sophia, books: Settings, fake: FakeServer
) -> None:
    sophia("squad", "complete", "a question")
    r = sophia("squad", "savings", "--days", "1")
    assert r.exit_code == 0, r.stderr
    assert "routing saved" in r.stdout and "saved $" in r.stderr
    assert json.loads(sophia("squad", "savings", "--json").stdout)["baseline_usd"] > 0
    fake.script("cheap", {"delay_s": 5})
    sophia("squad", "complete", "times out")
    fake.wait_idle()
    differs = sophia("squad", "reconcile")
    assert differs.exit_code == 1 and "litellm/cheap" in differs.stdout  # an estimate to fix
    assert sophia("squad", "reconcile", "--apply").exit_code == 0
    after = json.loads(sophia("squad", "reconcile", "--json").stdout)
    assert all(abs(row["difference_usd"]) < 1e-8 for row in after["rows"])
