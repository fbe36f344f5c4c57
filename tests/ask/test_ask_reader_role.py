"""Whether ask reads as sophia_reader is learnt again, not remembered for the process's life.

A process (a server, a long shell) that asked before `db init` learnt "no reader role here";
once the warehouse is set up its statements must run as the reader without a restart.
"""

from __future__ import annotations

import psycopg
import pytest

from sophia_cli.core.bi import execute
from sophia_cli.core.bi.execute import Reader
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import load_settings
from sophia_cli.store import migrations

CURRENT_ROLE = "SELECT current_user::text"


@pytest.fixture
def fresh_env(
    monkeypatch: pytest.MonkeyPatch, fresh_database_url: str, redis_url: str, redis_prefix: str
) -> str:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_prefix)
    return fresh_database_url


def _reads_as(reader: Reader) -> str:
    return str(reader.fetch(CURRENT_ROLE)[1][0][0])


def test_a_process_that_asked_before_setup_reads_as_the_reader_once_set_up(
    fresh_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execute, "READER_ROLE_RECHECK_S", 0.0)
    settings = load_settings()
    with Reader(settings) as reader:
        assert not reader.uses_reader_role()  # no schema yet: not usable
        assert _reads_as(reader) != "sophia_reader"
    with psycopg.connect(fresh_env, autocommit=True) as conn:
        migrations.upgrade(conn)
    with Reader(settings) as reader:
        assert reader.uses_reader_role()
        assert _reads_as(reader) == "sophia_reader"


def test_a_no_is_not_read_again_within_the_recheck_interval(
    fresh_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(execute, "READER_ROLE_RECHECK_S", 3600.0)
    settings = load_settings()
    with Reader(settings) as reader:
        assert not reader.uses_reader_role()
    with psycopg.connect(fresh_env, autocommit=True) as conn:
        migrations.upgrade(conn)
    with Reader(settings) as reader:
        assert not reader.uses_reader_role()  # cached: one catalog query per interval at most


def test_a_failed_statement_makes_the_next_one_read_the_role_again(fresh_env: str) -> None:
    with psycopg.connect(fresh_env, autocommit=True) as conn:
        migrations.upgrade(conn)
    settings = load_settings()
    with Reader(settings) as reader:
        assert reader.uses_reader_role()
        with psycopg.connect(fresh_env, autocommit=True) as conn:
            conn.execute("REVOKE USAGE ON SCHEMA hubspot FROM sophia_reader")
        try:
            with pytest.raises(SophiaError):
                reader.fetch("SELECT count(*) FROM hubspot.deals")
            assert not reader.uses_reader_role()  # learnt again after the failure
        finally:
            with psycopg.connect(fresh_env, autocommit=True) as conn:
                conn.execute("GRANT USAGE ON SCHEMA hubspot TO sophia_reader")
