"""The worker's side: import once, then fork a child per question that runs the real CLI.

    python -m sophia_cli.warm.worker SOCKET IDLE_SECONDS

Started by `client.start_worker`, detached, in its own session. Each child takes the
caller's stdin, stdout and stderr (passed over the socket), environment, working folder and
umask, then runs `sophia_cli.cli.main.run` on the caller's arguments: the command that runs
is the one the caller would have run, reading settings and env files afresh.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import io
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

# What answering imports, loaded before the socket opens so every caller gets a warm worker.
# tests/warm pins that a warm answer imports nothing more.
PRELOAD = (
    "sophia_cli.cli.main",
    "sophia_cli.core.bi.ask",
    "sophia_cli.core.bi.cache",
    "sophia_cli.core.bi.execute",
    "sophia_cli.core.bi.suggest",
    "sophia_cli.core.bi.values",
    "sophia_cli.core.bi.parse_llm",
    "sophia_cli.core.env.layers",
    "sophia_cli.core.env.project",
    "sophia_cli.core.env.aws_refs",
    "sophia_cli.core.setting_specs",
    "sophia_cli.core.squad.config",
    "sophia_cli.core.squad.keys",
    "sophia_cli.store.postgres",
    "sophia_cli.store.pooled",
    "sophia_cli.store.redis",
    "sophia_cli.store.keyring",
    "sophia_cli.store.embedded_postgres",
    "sophia_cli.store.embedded_redis",
    "psycopg",
    "psycopg_pool",
    "redis",
    "yaml",
    "csv",
    "zoneinfo",
    "sophia_cli.core.env.secrets",
    "sophia_cli.core.failures",
    "rich.console",
    "rich.table",
    "typer._click.decorators",
    "importlib.resources.readers",
    "importlib.readers",
    "rich._emoji_codes",
    "encodings.idna",
    "stringprep",
)
_REQUEST_TIMEOUT_S = 5.0
_TICK_S = 5.0


def preload() -> Any:
    """Import what answering a question needs; return the CLI's command tree, built once.

    A module that fails to import is skipped (the child meets the error as the CLI would).
    """
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    from sophia_cli.cli.main import root_command

    return root_command()


def serve(path: Path, idle_s: float) -> None:
    """Answer on `path` until `idle_s` seconds pass without a question."""
    with open(path.with_suffix(".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another worker holds this address
        try:
            command = preload()
            listener = _listen(path)
        except Exception:
            # Every question would start another doomed worker: the marker stops that for
            # a while (the log, next to it, has the traceback).
            path.with_suffix(".failed").touch()
            raise
        pid_file = path.with_suffix(".pid")
        pid_file.write_text(f"{os.getpid()}\n")
        signal.signal(signal.SIGTERM, _stop)
        inode = path.stat().st_ino
        try:
            _loop(listener, command, path, inode, idle_s)
        finally:
            listener.close()
            with contextlib.suppress(OSError):
                if path.stat().st_ino == inode:
                    path.unlink()
            with contextlib.suppress(OSError):
                pid_file.unlink()


def _stop(_signum: int, _frame: object) -> NoReturn:
    raise SystemExit(0)


def _listen(path: Path) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a killed worker's socket: we hold the lock, so nobody answers on it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(os.fspath(path))
    finally:
        os.umask(old)
    listener.listen(16)
    return listener


def _loop(listener: socket.socket, command: Any, path: Path, inode: int, idle_s: float) -> None:
    last = time.monotonic()
    while True:
        _reap()
        waited = time.monotonic() - last
        if waited >= idle_s or not _still_ours(path, inode):
            return
        ready, _, _ = select.select([listener], [], [], min(_TICK_S, idle_s - waited))
        if ready:
            conn, _ = listener.accept()
            last = time.monotonic()
            with conn:
                _answer(listener, conn, command)


def _still_ours(path: Path, inode: int) -> bool:
    """False once our socket file is gone or replaced: nobody can reach us any more."""
    try:
        return path.stat().st_ino == inode
    except OSError:
        return False


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _peer_uid(conn: socket.socket) -> int:
    """The connecting user (Linux); elsewhere the 0700 folder is what keeps others out."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return os.getuid()
    raw = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


def _answer(listener: socket.socket, conn: socket.socket, command: Any) -> None:
    """Read one request and fork the child that runs it; a malformed one is dropped."""
    if _peer_uid(conn) != os.getuid():
        return
    conn.settimeout(_REQUEST_TIMEOUT_S)
    fds: list[int] = []
    try:
        _, fds, _, _ = socket.recv_fds(conn, 1, 3)
        request = _read_request(conn)
    except (OSError, ValueError):
        request = None
    if request is None or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return
    if os.fork() == 0:
        _run_child(listener, conn, fds, request, command)
    for fd in fds:
        os.close(fd)


def _read_request(conn: socket.socket) -> dict[str, Any] | None:
    header = _read_exactly(conn, 4)
    body = _read_exactly(conn, int.from_bytes(header, "big"))
    request = json.loads(body.decode("utf-8", "surrogateescape"))
    return request if isinstance(request, dict) else None


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = conn.recv(min(size, 1 << 16))
        if not chunk:
            raise ValueError("the request ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _run_child(
    listener: socket.socket,
    conn: socket.socket,
    fds: list[int],
    request: dict[str, Any],
    command: Any,
) -> NoReturn:
    """Become the caller's command: its streams, environment, folder; then run the CLI."""
    code = 1
    try:
        listener.close()
        conn.settimeout(None)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _adopt(fds, request)
        argv = [str(arg) for arg in request["argv"]]
        sys.argv = ["sophia", *argv]
        conn.sendall(f"pid {os.getpid()}\n".encode())
    except BaseException:  # noqa: BLE001 - nothing ran: the caller answers it itself
        os._exit(1)
    try:
        from sophia_cli.cli.main import run

        code = run(argv, command)
    except BaseException as exc:  # noqa: BLE001 - run() handles errors; this is the last net
        code = 1
        with contextlib.suppress(Exception):
            sys.stderr.write(f"error: {type(exc).__name__} in the warm worker\n")
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(OSError):
            conn.sendall(f"exit {code}\n".encode())
        os._exit(code)


def _adopt(fds: list[int], request: dict[str, Any]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in request["env"].items()})
    os.chdir(str(request["cwd"]))
    os.umask(int(request["umask"]))
    streams = request["streams"]
    sys.stdin = _reopen(0, "r", streams["stdin"])
    sys.stdout = _reopen(1, "w", streams["stdout"])
    sys.stderr = _reopen(2, "w", streams["stderr"])


def _reopen(fd: int, mode: str, spec: dict[str, Any]) -> io.TextIOWrapper:
    """A text stream on `fd` set up as the caller's own (encoding, errors, buffering)."""
    binary = open(fd, mode + "b", closefd=False)  # noqa: SIM115 - lives as long as the child
    return io.TextIOWrapper(
        binary,
        encoding=str(spec["encoding"]),
        errors=str(spec["errors"]),
        line_buffering=bool(spec["line_buffering"]),
    )


def main(argv: list[str]) -> None:
    """Entry point: `python -m sophia_cli.warm.worker SOCKET IDLE_SECONDS`."""
    serve(Path(argv[0]), float(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
