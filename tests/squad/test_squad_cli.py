"""`sophia squad …` end to end through the real CLI entry point."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fake_llm import FakeServer
from squad_helpers import deployments


def test_models_lists_deployments_with_key_state(sophia, squad_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = sophia("squad", "models")
    assert r.exit_code == 0, r.stderr
    assert "cheap" in r.stdout and "$1.00" in r.stdout and "✓ OPENAI_API_KEY" in r.stdout
    rows = json.loads(sophia("squad", "models", "--json").stdout)
    assert [row["deployment"] for row in rows] == ["cheap", "mid", "pricey"]
    assert rows[0]["configured"] and rows[0]["price_source"] == "config"


def test_models_marks_deprecated_openrouter(  # type: ignore[no-untyped-def]
    sophia, write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    write_squads(
        {
            "squads": {
                "litellm": {
                    "primary": True,
                    "deployments": [{"name": "a", "model": "openai/gpt-4o-mini"}],
                },
                "openrouter": {
                    "deployments": [
                        {
                            "name": "r",
                            "model": "openrouter/openai/gpt-4o",
                            "input_cost_per_mtok": 1,
                            "output_cost_per_mtok": 1,
                        }
                    ]
                },
            }
        }
    )
    r = sophia("squad", "models")
    assert r.exit_code == 0
    assert "openrouter (deprecated)" in r.stdout
    assert r.stderr.count("uses OpenRouter, which is deprecated") == 1
    rows = json.loads(sophia("squad", "models", "--json").stdout)
    assert [row["deprecated"] for row in rows] == [False, True]


def test_complete_json_has_the_documented_fields(sophia, squad_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = sophia(
        "squad", "complete", "hello there", "--max-tokens", "20", "--temperature", "0", "--json"
    )
    assert r.exit_code == 0, r.stdout + r.stderr
    body = json.loads(r.stdout)
    assert {
        "text",
        "deployment",
        "model",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "cache_hit",
        "latency_ms",
    } <= set(body)
    assert (body["deployment"], body["cache_hit"]) == ("cheap", False)
    again = json.loads(
        sophia(
            "squad", "complete", "hello there", "--max-tokens", "20", "--temperature", "0", "--json"
        ).stdout
    )
    assert (again["cache_hit"], again["cost_usd"]) == (True, 0.0)


def test_complete_prints_the_answer_and_a_summary(
    sophia, squad_env: dict[str, str], fake: FakeServer
) -> None:  # type: ignore[no-untyped-def]
    r = sophia("squad", "complete", "write code", "-c", "code", "--no-cache")
    assert r.exit_code == 0
    assert r.stdout == "answer from mid\n"
    assert "litellm/mid" in r.stderr and "tokens" in r.stderr


def test_complete_over_budget_exits_4_with_budget_exceeded(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, fake: FakeServer
) -> None:
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", "0.00000001")
    r = sophia("squad", "complete", "hello", "--json")
    assert r.exit_code == 4
    assert json.loads(r.stdout)["error"]["code"] == "budget_exceeded"
    assert fake.calls("cheap") == 0


def test_complete_without_key_names_the_variable(
    sophia, squad_env: dict[str, str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OPENAI_API_KEY")
    r = sophia("squad", "complete", "hello")
    assert r.exit_code == 2
    assert "OPENAI_API_KEY" in r.stderr


def test_empty_prompt_is_a_usage_error(sophia, squad_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = sophia("squad", "complete", "  ")
    assert r.exit_code == 2 and "prompt is empty" in r.stderr


def test_malformed_squads_file_reports_file_and_line(  # type: ignore[no-untyped-def]
    sophia, write_squads: Callable[[dict[str, Any]], Path]
) -> None:
    path = write_squads({})
    path.write_text("squads:\n  litellm:\n    deployments:\n      - name: a\n        model: [\n")
    r = sophia("squad", "models")
    assert r.exit_code == 2
    assert f"{path}:" in r.stderr


def test_route_explain_dry_run_calls_no_model(
    sophia, squad_env: dict[str, str], fake: FakeServer
) -> None:  # type: ignore[no-untyped-def]
    r = sophia("squad", "route", "write code", "-c", "code", "--explain", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "lacks capability code" in r.stdout and "eligible" in r.stdout
    assert "would route to litellm/mid" in r.stderr
    assert fake.calls("mid") == 0
    record = json.loads(sophia("squad", "route", "x", "--dry-run", "--json").stdout)
    assert [c["deployment"] for c in record["candidates"]] == ["cheap", "mid", "pricey"]


def test_route_explain_without_dry_run_shows_fallbacks(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], fake: FakeServer
) -> None:
    fake.script("cheap", {"status": 500}, {"status": 500})
    r = sophia("squad", "route", "hello", "--explain")
    assert r.exit_code == 0
    assert "failed" in r.stdout and "chosen" in r.stdout
    assert "answered by litellm/mid" in r.stderr


def test_budget_json_reports_spent_reserved_remaining(sophia, squad_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    sophia("squad", "complete", "hello", "--max-tokens", "20")
    body = json.loads(sophia("squad", "budget", "--json").stdout)
    assert body["budget_usd"] == 100.0 and body["reserved_usd"] == 0.0
    assert body["spent_usd"] > 0
    assert body["remaining_usd"] == pytest.approx(100.0 - body["spent_usd"])
    assert body["alert_levels"] == [50, 80, 100]
    r = sophia("squad", "budget")
    assert r.exit_code == 0 and "remaining" in r.stdout


def test_spend_groups_by_model_squad_and_day(sophia, squad_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    sophia("squad", "complete", "one", "--temperature", "0")
    sophia("squad", "complete", "one", "--temperature", "0")  # a cache hit
    sophia("squad", "complete", "two", "-c", "code")
    by_model = json.loads(sophia("squad", "spend", "--json").stdout)
    assert {row["key"]: (row["calls"], row["cache_hits"]) for row in by_model["rows"]} == {
        "openai/cheap": (2, 1),
        "openai/mid": (1, 0),
    }
    by_squad = json.loads(sophia("squad", "spend", "--by", "squad", "--json").stdout)
    assert [row["key"] for row in by_squad["rows"]] == ["litellm"]
    by_day = json.loads(sophia("squad", "spend", "--by", "day", "--days", "1", "--json").stdout)
    assert by_day["total_calls"] == 3 and len(by_day["rows"]) == 1
    r = sophia("squad", "spend")
    assert r.exit_code == 0 and "█" in r.stdout


def test_spend_rejects_unknown_grouping(sophia, squad_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    r = sophia("squad", "spend", "--by", "colour")
    assert r.exit_code == 2 and "--by colour" in r.stderr


def test_test_command_pings_each_configured_deployment(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], fake: FakeServer
) -> None:
    r = sophia("squad", "test", "--json")
    assert r.exit_code == 0, r.stdout
    assert [(row["deployment"], row["ok"]) for row in json.loads(r.stdout)] == [
        ("cheap", True),
        ("mid", True),
        ("pricey", True),
    ]
    fake.script("mid", {"status": 401})
    r = sophia("squad", "test")
    assert r.exit_code == 1 and "401" in r.stdout


def test_doctor_reports_usable_squads_and_budget(  # type: ignore[no-untyped-def]
    sophia,
    squad_env: dict[str, str],
    write_squads: Callable[[dict[str, Any]], Path],
    fake: FakeServer,
) -> None:
    r = sophia("doctor", "--category", "squad", "--json")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert (
        checks["squad.config"]["status"] == "ok"
        and "litellm* 3/3" in checks["squad.config"]["detail"]
    )
    assert (
        checks["squad.budget"]["status"] == "ok" and "$100.00" in checks["squad.budget"]["detail"]
    )
    write_squads(
        {
            "squads": {
                "litellm": {
                    "primary": True,
                    "deployments": [{**deployments(fake)[0], "api_key_env": "AIMLAPI_API_KEY"}],
                }
            }
        }
    )
    checks = {
        c["name"]: c for c in json.loads(sophia("doctor", "-c", "squad", "--json").stdout)["checks"]
    }
    assert checks["squad.config"]["status"] == "warn"
    assert "set AIMLAPI_API_KEY" in checks["squad.config"]["detail"]


def test_models_and_route_dry_run_do_not_import_litellm(squad_env: dict[str, str]) -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from sophia_cli.cli.main import run\n"
        "assert run(['squad', 'models', '--json']) == 0\n"
        "assert run(['squad', 'route', 'hi', '--dry-run', '--json']) == 0\n"
        "print('litellm' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_warehouse_without_spend_log_says_to_run_db_init(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    r = sophia("squad", "budget")
    assert r.exit_code == 1
    assert "sophia.llm_calls is missing" in r.stderr and "sophia db upgrade" in r.stderr


def test_unreachable_redis_is_one_clear_error(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, fake: FakeServer
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    for args in (("complete", "hello"), ("route", "hello", "--dry-run"), ("budget",)):
        r = sophia("squad", *args)
        assert r.exit_code == 1, args
        assert f"Redis at 127.0.0.1:{port}/0 is unreachable" in r.stderr
    assert fake.calls("cheap") == 0


def test_complete_pins_a_model_and_tags_caller_and_feature(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], fake: FakeServer
) -> None:
    import getpass

    r = sophia("squad", "complete", "hi", "--model", "pricey", "--feature", "nightly", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["deployment"] == "pricey"
    by_caller = json.loads(sophia("squad", "spend", "--by", "caller", "--json").stdout)
    assert [row["key"] for row in by_caller["rows"]] == [f"cli:{getpass.getuser()}"]
    by_feature = json.loads(sophia("squad", "spend", "--by", "feature", "--json").stdout)
    assert [row["key"] for row in by_feature["rows"]] == ["nightly"]
    status = json.loads(sophia("squad", "budget", "--json").stdout)
    assert set(status["features"]) == {"nightly"} and status["in_flight"] == 0
    table = sophia("squad", "budget").stdout
    assert "feature" in table and "nightly" in table


def test_complete_says_when_the_provider_cut_the_answer(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], fake: FakeServer
) -> None:
    fake.script("cheap", {"completion_tokens": 100})
    r = sophia("squad", "complete", "tell me everything", "--max-tokens", "5")
    assert r.exit_code == 0 and "stopped: length" in r.stderr


def test_complete_refuses_a_bad_feature_tag_and_an_unknown_model(  # type: ignore[no-untyped-def]
    sophia, squad_env: dict[str, str], fake: FakeServer
) -> None:
    r = sophia("squad", "complete", "hi", "--feature", "has spaces")
    assert r.exit_code == 2 and "not a valid tag" in r.stderr
    r = sophia("squad", "complete", "hi", "--model", "ghost")
    assert r.exit_code == 1 and "model `ghost` is not served here" in r.stderr
    assert fake.calls("cheap") == 0
