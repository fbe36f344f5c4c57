"""`sophia doctor`: concurrent bounded checks, human/JSON/JUnit output, exit codes."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sophia_cli.core.doctor import registry
from sophia_cli.core.doctor.models import ok
from sophia_cli.core.settings import Settings

CLOSED = "127.0.0.1:1"


@pytest.fixture
def healthy_env(stores_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_CONTEXT_URLS", "none")


@pytest.fixture
def milvus_running(isolated_env: Path) -> None:
    """The embedded Milvus Lite of this test's home, started (doctor never starts it)."""
    from sophia_cli.store import embedded_milvus

    embedded_milvus.ensure_running(isolated_env)


@pytest.fixture
def everything_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://u:p@{CLOSED}/x")
    monkeypatch.setenv("REDIS_URL", f"redis://{CLOSED}/0")
    monkeypatch.setenv("MILVUS_URI", f"http://{CLOSED}")
    monkeypatch.setenv("MCP_CONTEXT_URLS", "http://127.0.0.1:2,http://127.0.0.1:3")


@pytest.fixture
def extra_check() -> Iterator[list[registry.Check]]:
    """Register checks for one test and remove them afterwards."""
    added: list[registry.Check] = []
    yield added
    for item in added:
        registry.unregister(item.name)


def _add(extra: list[registry.Check], check: registry.Check) -> None:
    registry.register(check)
    extra.append(check)


def test_healthy_stores_exit_zero(sophia, healthy_env, milvus_running) -> None:
    result = sophia("doctor", "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, report
    by_name = {check["name"]: check for check in report["checks"]}
    for name in ("configuration", "postgres", "migrations", "redis", "milvus"):
        assert by_name[name]["status"] == "ok", by_name[name]


def test_json_shape_has_checks_and_summary(sophia, healthy_env) -> None:
    report = json.loads(sophia("doctor", "--json").stdout)
    assert set(report) == {"checks", "summary"}
    for check in report["checks"]:
        assert {"name", "category", "status", "detail", "duration_ms"} <= set(check)
        assert check["status"] in {"ok", "warn", "fail", "skip"}
    assert {"ok", "warn", "fail", "skip", "duration_ms"} <= set(report["summary"])


def test_every_service_down_fails_fast_with_each_cause(sophia, everything_down) -> None:
    started = time.monotonic()
    result = sophia("doctor", "--json")
    elapsed = time.monotonic() - started
    report = json.loads(result.stdout)
    by_name = {check["name"]: check for check in report["checks"]}
    assert result.exit_code == 1
    assert elapsed < 20
    assert "127.0.0.1:1" in by_name["postgres"]["detail"]
    assert "unreachable" in by_name["redis"]["detail"]
    assert by_name["milvus"]["status"] == "fail"
    assert by_name["mcp-servers"]["status"] == "fail"


def test_a_milvus_server_that_refuses_is_failed_before_pymilvus_is_loaded(
    imports_of, everything_down
) -> None:
    run = imports_of("doctor", "--json", "--category", "stores")
    assert run.exit_code == 1
    assert run.heavy("pymilvus") == []  # seconds of imports to learn what a TCP connect says


def test_stopped_embedded_servers_are_reported_and_left_stopped(sophia, isolated_env) -> None:
    from sophia_cli.store import embedded_milvus, embedded_postgres, embedded_redis

    result = sophia("doctor", "--json", "--category", "stores")
    by_name = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 0
    for name, server in (("milvus", "Milvus Lite"), ("redis", "Valkey")):
        assert by_name[name]["status"] == "skip"
        assert f"embedded {server} is not running" in by_name[name]["detail"]
        assert "`sophia db init` starts it now" in by_name[name]["detail"]
    assert "not initialised; run `sophia db init`" in by_name["postgres"]["detail"]
    assert not embedded_milvus.state(isolated_env).running
    assert not embedded_redis.state(isolated_env).running
    assert not embedded_postgres.state(isolated_env).initialised


def test_a_running_embedded_server_is_checked(sophia, isolated_env, milvus_running) -> None:
    report = json.loads(sophia("doctor", "--json", "--category", "stores").stdout)
    milvus = next(check for check in report["checks"] if check["name"] == "milvus")
    assert milvus["status"] == "ok" and milvus["detail"].startswith("Milvus Lite at http://")


def test_human_output_groups_checks_with_marks_and_a_summary(sophia, everything_down) -> None:
    result = sophia("doctor")
    assert result.exit_code == 1
    assert "stores" in result.stdout and "✗ postgres" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("unhealthy:")


def test_junit_report_marks_failures(sophia, everything_down, tmp_path) -> None:
    junit = tmp_path / "doctor.xml"
    sophia("doctor", "--junit", str(junit))
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    failed = {
        case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None
    }
    assert {"postgres", "redis", "milvus"} <= failed
    assert int(suite.get("failures", "0")) == len(failed)


def test_slow_check_times_out_without_delaying_the_rest(sophia, healthy_env, extra_check) -> None:
    def hang(settings: Settings):
        time.sleep(30)
        return ok("never")

    _add(extra_check, registry.Check("hangs", "test", hang, timeout_s=0.3))
    started = time.monotonic()
    report = json.loads(sophia("doctor", "--json", "--category", "test").stdout)
    assert time.monotonic() - started < 5
    assert report["checks"] == [
        {**report["checks"][0], "name": "hangs", "status": "fail", "detail": "timed out after 0.3s"}
    ]


def test_crashing_check_is_reported_not_raised(sophia, healthy_env, extra_check) -> None:
    def crash(settings: Settings):
        raise RuntimeError("boom")

    _add(extra_check, registry.Check("crashes", "test", crash))
    result = sophia("doctor", "--json", "--category", "test")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["checks"][0]["detail"] == "RuntimeError: boom"


def test_warnings_alone_exit_zero(sophia, healthy_env, monkeypatch) -> None:
    monkeypatch.delenv("MCP_CONTEXT_URLS")
    result = sophia("doctor", "--json", "--category", "mcp")
    report = json.loads(result.stdout)
    assert report["checks"][0]["status"] in {"warn", "ok"}
    assert result.exit_code == 0


def test_production_without_required_settings_fails(sophia, healthy_env, monkeypatch) -> None:
    monkeypatch.setenv("SOPHIA_ENV", "production")
    report = json.loads(sophia("doctor", "--json", "--category", "config").stdout)
    check = report["checks"][0]
    assert check["status"] == "fail"
    assert "JWT_SECRET" in check["detail"]


def test_an_unknown_category_is_a_usage_error_listing_the_valid_ones(sophia) -> None:
    result = sophia("doctor", "--category", "bogus")
    assert result.exit_code == 2
    assert "unknown doctor category: bogus" in result.stderr
    assert "config" in result.stderr and "stores" in result.stderr
    assert "healthy" not in result.stdout


def test_a_check_never_reports_a_negative_duration() -> None:
    from sophia_cli.core.doctor.models import ok
    from sophia_cli.core.doctor.registry import Check
    from sophia_cli.core.doctor.runner import run_checks
    from sophia_cli.core.settings import load_settings

    instant = [Check(f"instant-{n}", "test", lambda s: ok("done")) for n in range(50)]
    report = run_checks(load_settings(), instant)
    assert min(result.duration_ms for result in report.checks) >= 0


def test_a_timed_out_check_reports_its_timeout_as_its_duration() -> None:
    from sophia_cli.core.doctor.models import ok
    from sophia_cli.core.doctor.registry import Check
    from sophia_cli.core.doctor.runner import run_checks
    from sophia_cli.core.settings import load_settings

    def slow(settings: Settings) -> Any:
        time.sleep(1.5)
        return ok("late")

    checks = [
        Check("slow-a", "test", slow, timeout_s=1.0),
        Check("stuck", "test", slow, timeout_s=0.2),
    ]
    report = run_checks(load_settings(), checks)
    stuck = next(result for result in report.checks if result.name == "stuck")
    assert stuck.status.value == "fail" and stuck.duration_ms == 200
