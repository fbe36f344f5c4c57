"""Shared fixtures: real PostgreSQL and Redis, a private SOPHIA_HOME, and a CLI runner.

PostgreSQL and Redis are the servers named by TEST_DATABASE_URL / TEST_REDIS_URL when set
(CI sets them), else embedded servers started once per test session. Each test that needs
a database gets its own, so tests never see each other's rows.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from sophia_cli.cli.main import run
from sophia_cli.core.setting_specs import deprecated_names, setting_specs
from sophia_cli.store import embedded_milvus, embedded_postgres, embedded_redis, migrations
from sophia_cli.store.databases import create_database, dbname_of, drop_database

# Every variable sophia reads (and the deprecated names it still understands) is cleared,
# so nothing from a developer's shell leaks into tests.
_ISOLATED_VARS = (
    *(spec.env_name for spec in setting_specs()),
    *deprecated_names(),
    "PYTHON_KEYRING_BACKEND",
)


# Every embedded Milvus server started during the session, by this process or by a `sophia`
# subprocess of a test, exits by itself when this process ends (even when it is killed).
os.environ[embedded_milvus.EXIT_WITH_VARIABLE] = str(os.getpid())


def _milvus_servers_of_this_session() -> dict[int, str]:
    """pid → command line of every embedded Milvus server still tied to this session."""
    found: dict[int, str] = {}
    marker = ["sophia_cli.store.milvus_server", "--exit-with", str(os.getpid())]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if marker[0] in args and "--exit-with" in args:
            if args[args.index("--exit-with") + 1] == marker[2]:
                found[int(entry.name)] = " ".join(args).strip()
    return found


@pytest.fixture(scope="session", autouse=True)
def no_milvus_left_behind() -> Iterator[None]:
    """Fails the session when a fixture or test left an embedded Milvus server running.

    Set up before `session_home`, so it is torn down after the session's own servers stopped.
    """
    import signal
    import time

    yield
    deadline = time.monotonic() + 5
    while (left := _milvus_servers_of_this_session()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"embedded Milvus servers left running after the tests: {left}"


@pytest.fixture(scope="session")
def session_home(no_milvus_left_behind: None) -> Iterator[Path]:
    """A SOPHIA_HOME shared by the session's embedded servers (short path for sockets)."""
    home = Path(tempfile.mkdtemp(prefix="sophia-t-"))
    yield home
    if not os.environ.get("TEST_DATABASE_URL"):
        embedded_postgres.stop(home)
    if not os.environ.get("TEST_REDIS_URL"):
        embedded_redis.stop(home)
    embedded_milvus.stop(home)
    embedded_milvus.stop_started()  # servers of module-scoped homes: none outlives the session
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url(session_home: Path) -> str:
    """A conninfo with rights to create databases on the test PostgreSQL server."""
    return os.environ.get("TEST_DATABASE_URL") or embedded_postgres.ensure_running(session_home)


@pytest.fixture(scope="session")
def warehouse_template(pg_admin_url: str) -> Iterator[str]:
    """A database with every migration applied, cloned for each test that needs one."""
    url = create_database(pg_admin_url)
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
    yield dbname_of(url)
    drop_database(pg_admin_url, url)


@pytest.fixture
def fresh_database_url(pg_admin_url: str) -> Iterator[str]:
    """An empty database of this test's own."""
    url = create_database(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def warehouse_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    """A database of this test's own with the warehouse schema applied."""
    url = create_database(pg_admin_url, template=warehouse_template)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def redis_url(session_home: Path) -> str:
    """The test Redis server (TEST_REDIS_URL or an embedded Valkey)."""
    return os.environ.get("TEST_REDIS_URL") or embedded_redis.ensure_running(session_home)


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own, so tests sharing one Redis never collide."""
    return f"sophia-test-{uuid.uuid4().hex[:10]}:"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test runs with a private SOPHIA_HOME and no inherited sophia variables.

    The home is made directly under the temp dir, not under pytest's 0700 tmp_path: the
    embedded PostgreSQL runs as an unprivileged user when tests run as root, and it must be
    able to reach its data dir. Embedded servers a test started are stopped afterwards, so
    no test leaks a running PostgreSQL or Valkey into the rest of the session.
    """
    for name in _ISOLATED_VARS:
        monkeypatch.delenv(name, raising=False)
    home = Path(tempfile.mkdtemp(prefix="sophia-h-"))
    monkeypatch.setenv("SOPHIA_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("SOPHIA_WARM", "off")  # no `sophia` subprocess leaves a worker behind
    yield home
    from sophia_cli.store import pooled

    pooled.close_all()  # pools and clients are per process: never carry one to the next test
    if (embedded_postgres.data_dir(home) / "postmaster.pid").exists():
        embedded_postgres.stop(home)
    if (embedded_redis.data_dir(home) / "valkey.pid").exists():
        embedded_redis.stop(home)
    if (embedded_milvus.folder(home) / "server.pid").exists():
        embedded_milvus.stop(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def stores_env(
    monkeypatch: pytest.MonkeyPatch, warehouse_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    """Point settings at this test's database and Redis prefix; Milvus Lite in SOPHIA_HOME."""
    values = {
        "DATABASE_URL": warehouse_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@dataclass
class Result:
    """What one `sophia` invocation produced."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as the one JSON document `--json` promises."""
        return json.loads(self.stdout)


@pytest.fixture
def sophia(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `sophia ARGS...` in-process through the real entry point; returns a Result."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


# Runs one command in a fresh interpreter and reports the modules it left loaded.
_IMPORTS_PROBE = """
import json, sys
from sophia_cli.cli.main import run
code = run(sys.argv[1:])
sys.stderr.write("\\nMODULES=" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@dataclass
class Imported:
    """What one `sophia` run in its own interpreter imported, and how it ended."""

    exit_code: int
    modules: set[str]
    stderr: str

    def heavy(self, *names: str) -> list[str]:
        """Those of `names` (packages) the run imported, themselves or any submodule."""
        return [n for n in names if any(m == n or m.startswith(n + ".") for m in self.modules)]


@pytest.fixture
def imports_of() -> Callable[..., Imported]:
    """Run `sophia ARGS...` in a child interpreter (this test's environment) for its imports.

    Start-up cost is measured in bench/startup.py and bench/ask.py; the tests guard the
    cause instead of milliseconds: which libraries a command pulls in.
    """
    import subprocess
    import sys

    def invoke(*args: str) -> Imported:
        done = subprocess.run(
            [sys.executable, "-c", _IMPORTS_PROBE, *args],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        head, _, report = done.stderr.rpartition("\nMODULES=")
        assert report, f"sophia {' '.join(args)} did not finish: {done.stderr[-2000:]}"
        found = json.loads(report)
        return Imported(found["code"], set(found["modules"]), head)

    return invoke
