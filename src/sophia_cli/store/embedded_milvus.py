"""The embedded vector store: one Milvus Lite server under SOPHIA_HOME, shared by every process.

Milvus Lite in file mode belongs to the one process that opened the file: a cron sync while
`sophia serve` runs, two serve workers or a CLI search during a sync would fail with
`DataDirLockedError`. So, like the embedded PostgreSQL and Valkey, the embedded Milvus is a
server (`milvus_lite server`) started on demand under a file lock (two processes starting it
at once get one server), left running for later commands, and stopped by `sophia db stop`.
It listens on a free loopback port recorded beside its data. The server exits by itself when
its folder is deleted, or when the process in SOPHIA_MILVUS_EXIT_WITH_PID ends (see
`milvus_server`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sophia_cli.core.errors import ServiceUnavailableError

_START_TIMEOUT_S = 60.0  # the first start of a cold machine imports a large native library
_START_ATTEMPTS = 3  # a free port can be taken between choosing it and the server binding it
# A supervisor (the test session) whose end also ends every server started under it.
EXIT_WITH_VARIABLE = "SOPHIA_MILVUS_EXIT_WITH_PID"
# Started servers are kept referenced: they outlive this process on purpose.
_started: list[subprocess.Popen[bytes]] = []


@dataclass(frozen=True)
class EmbeddedMilvusState:
    """What is on disk and running for the embedded server."""

    data_dir: Path
    running: bool
    pid: int | None
    port: int | None

    @property
    def uri(self) -> str | None:
        return f"http://127.0.0.1:{self.port}" if self.running and self.port else None


def folder(home: Path) -> Path:
    return home / "milvus"


def data_path(home: Path) -> Path:
    """The Milvus Lite data (the same path file mode used, so earlier data is kept)."""
    return folder(home) / "sophia.db"


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it was our child and died
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: started by another process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listening(port: int | None) -> bool:
    if port is None:
        return False
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def state(home: Path) -> EmbeddedMilvusState:
    """Inspect the embedded server without starting it."""
    pid = _read_int(folder(home) / "server.pid")
    port = _read_int(folder(home) / "server.port")
    running = _alive(pid) and _listening(port)
    return EmbeddedMilvusState(data_dir=data_path(home), running=running, pid=pid, port=port)


def ensure_running(home: Path) -> str:
    """Start the embedded server if needed and return its URI."""
    folder(home).mkdir(parents=True, exist_ok=True)
    from filelock import FileLock  # ~30 ms of imports, only when a server may start

    with FileLock(str(folder(home) / "start.lock"), timeout=_START_TIMEOUT_S * 2):
        current = state(home)
        if current.uri is not None:
            return current.uri
        for _ in range(_START_ATTEMPTS):
            port = _start(home)
            if port is not None:
                return f"http://127.0.0.1:{port}"
    raise ServiceUnavailableError(
        f"embedded Milvus Lite in {data_path(home)} did not start",
        hint=f"Read {folder(home) / 'server.log'}; or set MILVUS_URI to a Milvus server.",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(home: Path) -> int | None:
    """Start one server; its port once it listens, None when it exited at start."""
    port = _free_port()
    log = folder(home) / "server.log"
    command = [
        *(sys.executable, "-m", "sophia_cli.store.milvus_server"),
        *("--data-dir", str(data_path(home)), "--host", "127.0.0.1", "--port", str(port)),
    ]
    exit_with = os.environ.get(EXIT_WITH_VARIABLE, "").strip()
    if exit_with.isdigit():
        command += ["--exit-with", exit_with]
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,  # not stopped by the terminal's Ctrl-C meant for sophia
        )  # fmt: skip
    _started.append(process)
    (folder(home) / "server.pid").write_text(str(process.pid))
    (folder(home) / "server.port").write_text(str(port))
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        if _listening(port):
            return port
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=10)
    return None


def stop_started() -> int:
    """Stop every server this process started (test sessions); returns how many ran."""
    running = [process for process in _started if process.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    _started.clear()
    return len(running)


def stop(home: Path) -> bool:
    """Stop the embedded server; returns False when it was not running."""
    pid = _read_int(folder(home) / "server.pid")
    if not _alive(pid):
        return False
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    for name in ("server.pid", "server.port"):
        (folder(home) / name).unlink(missing_ok=True)
    return True
