"""Embedded PostgreSQL and Valkey: started on first use, reused, stopped, safe to race."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from sophia_cli.store import embedded_postgres, embedded_redis


@pytest.fixture
def short_home() -> Iterator[Path]:
    """A SOPHIA_HOME with a short path, stopped and removed after the test."""
    home = Path(tempfile.mkdtemp(prefix="sophia-e-"))
    yield home
    embedded_postgres.stop(home)
    embedded_redis.stop(home)


def _start_in_subprocess(kind: str, home: Path) -> subprocess.Popen[str]:
    code = (
        f"from pathlib import Path\nfrom sophia_cli.store import embedded_{kind} as e\n"
        f"print(e.ensure_running(Path({str(home)!r})))\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_postgres_starts_on_first_use_and_serves_the_sophia_database(short_home: Path) -> None:
    url = embedded_postgres.ensure_running(short_home)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("sophia",)


def test_postgres_listens_on_a_unix_socket_only(short_home: Path) -> None:
    url = embedded_postgres.ensure_running(short_home)
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)


def test_postgres_is_reused_by_the_next_command(short_home: Path) -> None:
    embedded_postgres.ensure_running(short_home)
    first = embedded_postgres.state(short_home).pid
    process = _start_in_subprocess("postgres", short_home)
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert embedded_postgres.state(short_home).pid == first


def test_postgres_stop_stops_it_and_next_use_restarts_it(short_home: Path) -> None:
    embedded_postgres.ensure_running(short_home)
    assert embedded_postgres.stop(short_home) is True
    assert embedded_postgres.state(short_home).running is False
    assert embedded_postgres.stop(short_home) is False
    url = embedded_postgres.ensure_running(short_home)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_postgres_concurrent_first_starts_share_one_server(short_home: Path) -> None:
    processes = [_start_in_subprocess("postgres", short_home) for _ in range(3)]
    urls = {process.communicate(timeout=120)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert len(urls) == 1
    assert embedded_postgres.state(short_home).running


def test_valkey_starts_and_is_reused(short_home: Path) -> None:
    url = embedded_redis.ensure_running(short_home)
    pid = embedded_redis.state(short_home).pid
    assert redis.Redis.from_url(url).ping()
    assert embedded_redis.ensure_running(short_home) == url
    assert embedded_redis.state(short_home).pid == pid


def test_valkey_listens_on_a_unix_socket_only(short_home: Path) -> None:
    url = embedded_redis.ensure_running(short_home)
    assert redis.Redis.from_url(url).config_get("port") == {"port": "0"}


def test_valkey_concurrent_first_starts_share_one_server(short_home: Path) -> None:
    processes = [_start_in_subprocess("redis", short_home) for _ in range(3)]
    urls = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert len(urls) == 1


def test_valkey_stop_stops_it(short_home: Path) -> None:
    embedded_redis.ensure_running(short_home)
    assert embedded_redis.stop(short_home) is True
    assert embedded_redis.state(short_home).running is False
    assert embedded_redis.stop(short_home) is False
