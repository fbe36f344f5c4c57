"""Before any data: one line naming the command to run, never an internal error or a 0."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from ask_helpers import drop_database

from sophia_cli.store.databases import create_database


@pytest.fixture
def empty_url(pg_admin_url: str) -> Iterator[str]:
    url = create_database(pg_admin_url, prefix="sophia_ask_empty_")
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def unsynced_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    url = create_database(pg_admin_url, prefix="sophia_ask_unsynced_", template=warehouse_template)
    yield url
    drop_database(pg_admin_url, url)


def _env(monkeypatch: pytest.MonkeyPatch, url: str, redis_url: str, prefix: str) -> None:
    for name, value in {"DATABASE_URL": url, "REDIS_URL": redis_url,
                        "REDIS_KEY_PREFIX": prefix}.items():  # fmt: skip
        monkeypatch.setenv(name, value)


def test_a_warehouse_without_schema_names_db_init(  # type: ignore[no-untyped-def]
    sophia, empty_url: str, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, empty_url, redis_url, redis_prefix)
    result = sophia("ask", "won revenue last quarter")
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "no sophia tables" in lines[0] and "internal error" not in result.stderr
    assert "sophia db init" in result.stderr and "sophia demo" in result.stderr


def test_a_warehouse_never_synced_names_sync_instead_of_answering_zero(  # type: ignore[no-untyped-def]
    sophia, unsynced_url: str, redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, unsynced_url, redis_url, redis_prefix)
    result = sophia("ask", "won revenue last quarter", "--json")
    assert result.exit_code != 0
    body = json.loads(result.stdout)
    assert "no hubspot data yet" in body["error"]["message"]
    assert "sophia sync" in body["error"]["hint"] and "sophia demo" in body["error"]["hint"]
