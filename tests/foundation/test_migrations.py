"""Warehouse migrations: ordered, checksummed, idempotent, safe when run concurrently."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import psycopg
import pytest

from sophia_cli.core.errors import MigrationError
from sophia_cli.store import migrations

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "warehouse-contract.md"


def _contract() -> dict[str, set[str]]:
    """Tables and columns listed in the repository's warehouse contract."""
    tables: dict[str, set[str]] = {}
    for name, columns in re.findall(r"^- `(\w+\.\w+)\((.*)\)`$", CONTRACT.read_text(), re.M):
        cleaned = columns.split(";")[0].replace(" PK", "")
        tables[name] = {column.strip() for column in cleaned.split(",")}
    return tables


def _columns(url: str) -> dict[str, set[str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_schema || '.' || table_name, column_name FROM information_schema.columns"
            " WHERE table_schema IN ('hubspot', 'asana', 'slack', 'gong')"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


def _upgrade(url: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [m.label for m in migrations.upgrade(conn)]


def test_contract_is_read_from_its_document() -> None:
    contract = _contract()
    assert len(contract) == 16
    assert "label" in contract["hubspot.pipeline_stages"]
    assert "close_date" in contract["hubspot.deals"]


def test_first_upgrade_creates_every_contract_table_and_column(fresh_database_url: str) -> None:
    _upgrade(fresh_database_url)
    found = _columns(fresh_database_url)
    for table, columns in _contract().items():
        assert table in found, table
        assert columns <= found[table], (table, columns - found[table])


def test_migrations_apply_in_version_order(fresh_database_url: str) -> None:
    applied = _upgrade(fresh_database_url)
    assert applied == sorted(applied)
    assert applied[0] == "0001_warehouse"


def test_second_upgrade_changes_nothing(fresh_database_url: str) -> None:
    _upgrade(fresh_database_url)
    assert _upgrade(fresh_database_url) == []


def test_changed_applied_migration_is_an_error(fresh_database_url: str) -> None:
    _upgrade(fresh_database_url)
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        conn.execute("UPDATE sophia.schema_migrations SET checksum = 'edited' WHERE version = 1")
        with pytest.raises(MigrationError, match="0001_warehouse"):
            migrations.upgrade(conn)


def test_migration_unknown_to_this_version_is_an_error(fresh_database_url: str) -> None:
    _upgrade(fresh_database_url)
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO sophia.schema_migrations (version, name, checksum, duration_ms)"
            " VALUES (9999, 'from_the_future', 'x', 1)"
        )
        with pytest.raises(MigrationError, match="9999_from_the_future"):
            migrations.upgrade(conn)


def test_failed_migration_is_rolled_back_whole(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = migrations.Migration(1, "broken", "CREATE SCHEMA halfway; SELECT no_such_function();")
    monkeypatch.setattr(migrations, "discover", lambda: [broken])
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        with pytest.raises(MigrationError, match="0001_broken"):
            migrations.upgrade(conn)
        assert conn.execute("SELECT to_regnamespace('halfway')").fetchone() == (None,)
        assert migrations.read_applied(conn) == []


def test_concurrent_upgrades_apply_each_migration_once(fresh_database_url: str) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(_upgrade(fresh_database_url))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    applied_by_all = [label for result in results for label in result]
    assert sorted(applied_by_all) == [m.label for m in migrations.discover()]
    with psycopg.connect(fresh_database_url) as conn:
        assert len(migrations.read_applied(conn)) == len(migrations.discover())


def test_upgrade_requires_autocommit(fresh_database_url: str) -> None:
    with psycopg.connect(fresh_database_url) as conn, pytest.raises(ValueError):
        migrations.upgrade(conn)
