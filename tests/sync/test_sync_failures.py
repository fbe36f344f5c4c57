"""Failures: 429 storms, 5xx, expired offsets, bad tokens, malformed or unexpected bodies."""

from __future__ import annotations

import json

import httpx
import psycopg
from sync_helpers import mismatches, stream_counts

from sophia_cli.core.sync.run import run_sync
from sophia_cli.sandbox.api.app import start_sandbox
from sophia_cli.sandbox.ratelimit import buckets_for


def _windows_exceeded(requests: list[dict], limits: dict[str, dict]) -> dict[str, int]:
    """Counters whose accepted requests ever exceeded their limit in a sliding window."""
    times: dict[tuple[str, str], list[float]] = {}
    for r in requests:
        if r["status"] != 429:
            for counter, limit_name in buckets_for(r["api"], r["path"]):
                times.setdefault((counter, limit_name), []).append(r["t"])
    over = {}
    for (counter, limit_name), stamps in times.items():
        limit = limits[limit_name]
        stamps.sort()
        worst = max(
            sum(1 for u in stamps[i:] if u < t + limit["window_s"]) for i, t in enumerate(stamps)
        )
        if worst > limit["limit"]:
            over[counter] = worst
    return over


def test_429_storm_is_survived_within_the_published_limits(point_at, stores_env):
    with start_sandbox(
        seed=5, scale=0.02, rate_limits="real", scenario="hubspot_bulk_import"
    ) as handle:
        handle.add_fault(
            api="hubspot",
            kind="429",
            count=4,
            retry_after=1,
            path="/crm/v3/objects/contacts/search",
        )
        handle.add_fault(api="gong", kind="429", count=3, retry_after=1)
        settings = point_at(handle, SYNC_RATE_LIMITS="published")
        report = run_sync(settings, ["hubspot", "gong"])
        assert report.ok, [s.error for s in report.sources]
        assert sum(s.retries for src in report.sources for s in src.streams) >= 7
        limits = httpx.get(f"{handle.base_url}/_sandbox/limits").json()["limits"]
        requests = handle.requests()
        assert len(requests) > 60 and _windows_exceeded(requests, limits) == {}
        throttled = [r for r in requests if r["status"] == 429]
        assert len(throttled) == 7  # only the injected ones: our own pace never hit a limit
        for hit in throttled:
            later = [r["t"] for r in requests if r["api"] == hit["api"] and r["t"] > hit["t"]]
            assert min(later) - hit["t"] >= 0.95  # Retry-After: 1 honoured
        assert (
            mismatches(stores_env["DATABASE_URL"], handle, ("hubspot.contacts", "gong.calls")) == {}
        )


def test_server_errors_are_retried_with_backoff(sandbox, synced, stores_env):
    for kind, path in (("500", "/workspaces"), ("502", "/users"), ("503", "/projects")):
        sandbox.add_fault(api="asana", kind=kind, count=1, path=path)
    report = synced(sandbox, ["asana"])
    assert report.ok
    assert sum(s.retries for s in report.sources[0].streams) == 3
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}


def test_expired_asana_offset_restarts_the_listing(stores_env, point_at):
    with start_sandbox(seed=7, scale=0.2, rate_limits="off") as handle:
        handle.add_fault(api="asana", kind="expired_offset", count=1, path="/tasks")
        report = run_sync(point_at(handle), ["asana"])
        assert report.ok, report.sources[0].error
        tasks = next(s for s in report.sources[0].streams if s.stream == "tasks")
        assert any("offset expired" in note for note in tasks.notes)
        assert mismatches(stores_env["DATABASE_URL"], handle, ("asana.tasks",)) == {}


def test_invalid_token_fails_that_source_naming_the_variable(sandbox, point_at, sophia):
    point_at(sandbox, HUBSPOT_API_KEY="pat-na1-not-the-right-token")
    result = sophia("sync", "--json")
    assert result.exit_code == 1
    sources = {s["source"]: s for s in json.loads(result.stdout)["sources"]}
    assert sources["hubspot"]["status"] == "failed"
    assert "HUBSPOT_API_KEY" in sources["hubspot"]["error"]
    assert "HUBSPOT_API_KEY" in sources["hubspot"]["hint"]
    assert {name for name, s in sources.items() if s["status"] == "success"} == {
        "slack",
        "asana",
        "gong",
    }


def test_each_source_names_its_own_variable_when_rejected(sandbox, point_at, sophia):
    point_at(
        sandbox, SLACK_BOT_TOKEN="xoxb-wrong", ASANA_PAT_TOKEN="2/1/wrong", GONG_ACCESS_KEY="wrong"
    )
    result = sophia("sync", "slack", "asana", "gong")
    assert result.exit_code == 1
    for variable in ("SLACK_BOT_TOKEN", "ASANA_PAT_TOKEN", "GONG_ACCESS_KEY"):
        assert variable in result.stdout + result.stderr


def test_named_source_without_token_fails_with_the_variable(sophia, stores_env):
    result = sophia("sync", "gong", "--json")
    assert result.exit_code == 1
    source = json.loads(result.stdout)["sources"][0]
    assert source["status"] == "failed" and "GONG_ACCESS_KEY" in source["error"]


def test_unconfigured_sources_are_skipped_when_none_named(sandbox, sophia, monkeypatch, stores_env):
    monkeypatch.setenv("GONG_API_BASE", sandbox.env["GONG_API_BASE"])
    for name in ("GONG_ACCESS_KEY", "GONG_ACCESS_KEY_SECRET"):
        monkeypatch.setenv(name, sandbox.env[name])
    monkeypatch.setenv("SYNC_TEXT_INDEX", "false")
    result = sophia("sync", "--json")
    assert result.exit_code == 0, result.stdout
    statuses = {s["source"]: s["status"] for s in json.loads(result.stdout)["sources"]}
    assert statuses == {
        "slack": "skipped",
        "asana": "skipped",
        "hubspot": "skipped",
        "gong": "success",
    }


def _state(url: str) -> dict:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT source || '.' || stream, cursor FROM sophia.sync_state")
        return dict(rows.fetchall())


def test_malformed_json_fails_that_stream_only_and_keeps_its_state(
    sandbox, point_at, sophia, stores_env
):
    url = stores_env["DATABASE_URL"]
    point_at(sandbox)
    assert sophia("sync", "hubspot").exit_code == 0
    sandbox.mutate()
    before = _state(url)
    sandbox.add_fault(
        api="hubspot", kind="malformed_json", count=1, path="/crm/v3/objects/deals/search"
    )
    result = sophia("sync", "hubspot", "--json")
    assert result.exit_code == 1
    streams = {s["stream"]: s for s in json.loads(result.stdout)["sources"][0]["streams"]}
    assert streams["deals"]["status"] == "failed"
    assert "not JSON" in streams["deals"]["error"] and "'" in streams["deals"]["error"]
    assert {n for n, s in streams.items() if s["status"] == "success"} == {
        "owners",
        "pipelines",
        "companies",
        "contacts",
    }
    assert _state(url)["hubspot.deals"] == before["hubspot.deals"]
    assert sophia("sync", "hubspot").exit_code == 0
    assert mismatches(url, sandbox, ("hubspot.deals", "hubspot.contacts")) == {}


def test_unexpected_shape_fails_that_stream_with_an_excerpt(sandbox, synced, stores_env):
    sandbox.add_fault(api="slack", kind="unexpected_shape", count=1, path="/users.list")
    report = synced(sandbox, ["slack"])
    streams = {s.stream: s for s in report.sources[0].streams}
    assert streams["users"].status == "failed" and "got '" in streams["users"].error
    assert streams["channels"].status == "success" and streams["messages"].status == "success"
    assert not report.ok
    assert stream_counts(report)["slack.messages"][0] > 0


def test_unknown_source_is_a_usage_error(sophia, stores_env):
    result = sophia("sync", "salesforce")
    assert result.exit_code == 2
    assert "unknown source: salesforce" in result.stderr


def test_a_project_deleted_since_it_was_listed_is_skipped_not_fatal(sandbox, synced, stores_env):
    synced(sandbox, ["asana"])
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        conn.execute("INSERT INTO asana.projects (gid, name) VALUES ('1299999999999999', 'gone')")
    # The projects listing fails, so tasks fall back on the warehouse's (stale) projects.
    sandbox.add_fault(api="asana", kind="unexpected_shape", path="/projects")
    report = synced(sandbox, ["asana"], full=True)
    streams = {s.stream: s for s in report.sources[0].streams}
    assert streams["projects"].status == "failed"
    assert streams["tasks"].status == "success"
    assert any("1299999999999999" in note for note in streams["tasks"].notes)


def test_tasks_read_the_projects_this_run_listed_not_the_warehouse(sandbox, synced, stores_env):
    synced(sandbox, ["asana"])
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        conn.execute("INSERT INTO asana.projects (gid, name) VALUES ('1299999999999999', 'gone')")
    report = synced(sandbox, ["asana"], full=True)
    tasks = next(s for s in report.sources[0].streams if s.stream == "tasks")
    assert report.ok and not any("1299999999999999" in note for note in tasks.notes)


def test_sync_before_db_init_says_to_initialise(
    sandbox, point_at, sophia, monkeypatch, fresh_database_url
):
    point_at(sandbox)
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    result = sophia("sync", "gong")
    assert result.exit_code == 1
    assert "sophia db init" in result.stderr
