"""`sophia db upgrade` (re)grants the read-only role whenever the connecting user may."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

GRANTED = "SELECT has_table_privilege('sophia_reader', 'hubspot.deals', 'SELECT')"


def test_db_upgrade_restores_the_reader_roles_grants(
    sophia: Callable[..., Any], warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        # Per database only: the role itself is shared by every database on the server.
        conn.execute("REVOKE SELECT ON ALL TABLES IN SCHEMA hubspot FROM sophia_reader")
        conn.execute("REVOKE USAGE ON SCHEMA hubspot FROM sophia_reader")
        assert conn.execute(GRANTED).fetchone() == (False,)
    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    result = sophia("db", "upgrade", "--json")
    assert result.exit_code == 0, result.stderr
    assert '"reader_role": true' in result.stdout
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert conn.execute(GRANTED).fetchone() == (True,)


def test_a_user_who_may_not_manage_roles_is_told_and_still_upgraded(
    sophia: Callable[..., Any], fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like a managed server: the user owns its database but may not create or grant roles."""
    import uuid

    name = f"sophia_plain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN")
        conn.execute(f"ALTER DATABASE {conn.info.dbname} OWNER TO {name}")
    warehouse_url = fresh_database_url
    try:
        plain = psycopg.conninfo.make_conninfo(warehouse_url, user=name)
        monkeypatch.setenv("DATABASE_URL", plain)
        result = sophia("db", "upgrade")
        assert result.exit_code == 0, result.stderr
        assert "migration(s)" in result.stdout + result.stderr
        assert "could not be set up" in result.stdout + result.stderr
    finally:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {conn.info.dbname} OWNER TO CURRENT_USER")
            conn.execute(f"REASSIGN OWNED BY {name} TO CURRENT_USER")
            conn.execute(f"DROP OWNED BY {name}")
            conn.execute(f"DROP ROLE {name}")
