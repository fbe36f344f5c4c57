"""`sophia db init|upgrade|status|stop` on real stores."""

from __future__ import annotations

import json

import pytest

from sophia_cli.store import migrations


@pytest.fixture
def db_env(
    monkeypatch: pytest.MonkeyPatch, fresh_database_url: str, redis_url: str, redis_prefix: str
) -> str:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_prefix)
    return fresh_database_url


def test_init_applies_migrations_and_creates_collections(sophia, db_env) -> None:
    result = sophia("db", "init", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["applied"] == [m.label for m in migrations.discover()]
    assert report["collections_created"] == ["sophia_text"]
    assert report["redis_ok"] is True
    assert all(store["reachable"] for store in report["stores"])


def test_init_twice_changes_nothing(sophia, db_env) -> None:
    sophia("db", "init")
    report = json.loads(sophia("db", "init", "--json").stdout)
    assert report["applied"] == []
    assert report["collections_created"] == []
    assert report["already_applied"] == len(migrations.discover())


def test_status_shows_applied_and_pending(sophia, db_env) -> None:
    before = json.loads(sophia("db", "status", "--json").stdout)
    warehouse = before["stores"][0]
    assert warehouse["store"] == "warehouse" and warehouse["reachable"]
    assert warehouse["migrations"]["pending"] == [m.label for m in migrations.discover()]
    sophia("db", "upgrade")
    after = json.loads(sophia("db", "status", "--json").stdout)
    assert after["stores"][0]["migrations"]["pending"] == []


def test_status_table_names_every_store(sophia, db_env) -> None:
    result = sophia("db", "status")
    assert result.exit_code == 0
    for store in ("warehouse", "cache", "vectors"):
        assert store in result.stdout


def test_upgrade_against_a_closed_port_is_one_clear_error(sophia, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://sophia:pw@127.0.0.1:1/none")
    result = sophia("db", "upgrade")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: PostgreSQL at 127.0.0.1:1/none is unreachable")
    assert "pw" not in result.stderr


def test_status_does_not_start_stopped_embedded_servers(sophia) -> None:
    report = json.loads(sophia("db", "status", "--json").stdout)
    warehouse = report["stores"][0]
    assert warehouse["embedded"] and not warehouse["reachable"]
    assert "not initialised" in warehouse["detail"]


def test_status_exits_1_when_a_required_store_is_unreachable(sophia, db_env, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://sophia:pw@127.0.0.1:1/none")
    result = sophia("db", "status", "--json")
    assert result.exit_code == 1
    report = result.json()
    assert report["healthy"] is False
    assert report["stores"][0]["failing"] and report["stores"][0]["required"]


def test_status_exits_0_when_every_store_answers(sophia, db_env) -> None:
    result = sophia("db", "status")
    assert result.exit_code == 0, result.stdout


def test_status_with_stopped_embedded_servers_is_healthy(sophia) -> None:
    result = sophia("db", "status", "--json")
    assert result.exit_code == 0
    assert result.json()["healthy"] is True


def test_stop_with_nothing_running_says_so(sophia) -> None:
    report = json.loads(sophia("db", "stop", "--json").stdout)
    assert report == {"stopped": [], "not_running": ["warehouse", "cache", "vectors"]}


def test_init_on_a_fresh_home_runs_embedded_servers_then_stop_stops_them(
    sophia, isolated_env
) -> None:
    try:
        result = sophia("db", "init", "--json")
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        assert [store["embedded"] for store in report["stores"]] == [True, True, True]
        assert all(store["reachable"] for store in report["stores"])
        assert sophia("db", "init", "--json").exit_code == 0
    finally:
        stopped = json.loads(sophia("db", "stop", "--json").stdout)
    assert stopped["stopped"] == ["warehouse", "cache", "vectors"]
