"""`sophia doctor` sync checks and `sophia demo`."""

from __future__ import annotations

import json

import psycopg
import pytest


def _checks(result) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_doctor_accepts_valid_tokens_and_reports_fresh_syncs(sandbox, synced, sophia):
    synced(sandbox, ["gong", "asana"])
    checks = _checks(sophia("doctor", "-c", "sync", "--json"))
    assert {checks[f"sync-{s}"]["status"] for s in ("slack", "asana", "hubspot", "gong")} == {"ok"}
    assert checks["sync-freshness"]["status"] == "ok"
    assert "2 source(s)" in checks["sync-freshness"]["detail"]


def test_doctor_fails_a_rejected_token_naming_the_variable(sandbox, point_at, sophia):
    point_at(sandbox, ASANA_PAT_TOKEN="2/123/not-valid")
    result = sophia("doctor", "-c", "sync", "--json")
    assert result.exit_code == 1
    check = _checks(result)["sync-asana"]
    assert check["status"] == "fail" and "ASANA_PAT_TOKEN" in check["detail"]


def test_doctor_skips_unset_tokens_in_development_and_fails_them_in_production(sophia, monkeypatch):
    assert _checks(sophia("doctor", "-c", "sync", "--json"))["sync-slack"]["status"] == "skip"
    monkeypatch.setenv("SOPHIA_ENV", "production")
    check = _checks(sophia("doctor", "-c", "sync", "--json"))["sync-slack"]
    assert check["status"] == "fail" and "SLACK_BOT_TOKEN" in check["detail"]


def test_doctor_warns_when_the_last_success_is_stale(sandbox, synced, sophia, stores_env):
    synced(sandbox, ["gong"])
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        conn.execute("UPDATE sophia.sync_runs SET finished_at = now() - interval '3 days'")
    check = _checks(sophia("doctor", "-c", "sync", "--json"))["sync-freshness"]
    assert check["status"] == "warn" and "gong" in check["detail"]


def test_demo_syncs_the_sandbox_into_the_database_and_says_what_next(
    sophia, stores_env, monkeypatch
):
    monkeypatch.setenv("SYNC_TEXT_INDEX", "false")
    result = sophia("demo", "--scale", "0.03", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["sync"]["ok"] and report["sync"]["totals"]["inserted"] > 0
    assert any(step.startswith("sophia ask") for step in report["next_steps"])
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        deals = conn.execute("SELECT count(*) FROM hubspot.deals").fetchone()
    assert deals is not None and deals[0] > 0


def test_demo_prints_a_table_and_next_steps_for_people(sophia, stores_env, monkeypatch):
    monkeypatch.setenv("SYNC_TEXT_INDEX", "false")
    result = sophia("demo", "--scale", "0.03")
    assert result.exit_code == 0, result.stderr
    assert "hubspot" in result.stdout and "deals" in result.stdout
    assert 'sophia ask "won revenue by owner last quarter"' in result.stderr


def test_demo_twice_mirrors_the_sandbox_without_changes(sophia, stores_env, monkeypatch):
    monkeypatch.setenv("SYNC_TEXT_INDEX", "false")
    assert sophia("demo", "--scale", "0.03", "--json").exit_code == 0
    again = json.loads(sophia("demo", "--scale", "0.03", "--json").stdout)
    assert again["sync"]["ok"]
    assert again["sync"]["totals"] == {"inserted": 0, "updated": 0, "deleted": 0}


def test_sync_with_nothing_configured_skips_every_source(sophia, stores_env):
    result = sophia("sync", "--json")
    assert result.exit_code == 0
    sources = json.loads(result.stdout)["sources"]
    assert {s["status"] for s in sources} == {"skipped"}
    assert all("not set" in s["error"] and "sophia demo" in s["hint"] for s in sources)


@pytest.mark.parametrize("scale", ["0", "-1", "500"])
def test_demo_refuses_an_impossible_scale_in_one_line(sophia, scale):
    result = sophia("demo", "--scale", scale)
    assert result.exit_code == 2
    assert "error: --scale must be above 0" in result.stderr
    assert "internal error" not in result.stderr
