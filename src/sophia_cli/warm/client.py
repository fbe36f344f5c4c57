"""The caller's side: hand `sophia ask` to a warm worker, or start one for next time."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from sophia_cli.cli import global_options
from sophia_cli.warm import address

WARM_COMMANDS = frozenset({"ask"})
RETRY_AFTER_FAILURE_S = 600
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` runs (`ask` in `sophia --json ask …`), None if it is not plain."""
    items = iter(argv)
    for arg in items:
        if arg in global_options.SWITCHES:
            continue
        if arg in global_options.VALUED:
            next(items, None)
            continue
        if arg.split("=", 1)[0] in global_options.VALUED:
            continue
        return None if arg.startswith("-") else arg
    return None


def answer_warm(argv: Sequence[str]) -> int | None:
    """Run `argv` in a warm worker and return its exit code; None means run it here.

    None is returned only when nothing ran: no worker yet (one is started for the next
    question), a worker that refused, or warm answers switched off.
    """
    environ = os.environ
    if command_word(argv) not in WARM_COMMANDS or not address.enabled(environ):
        return None
    if any(name.startswith("_") and name.endswith("_COMPLETE") for name in environ):
        return None  # shell completion asks the CLI itself
    path = address.socket_path(environ)
    if path is None:
        return None
    try:
        conn = _connect(path)
    except (FileNotFoundError, ConnectionRefusedError):
        start_worker(path, address.idle_seconds(environ))
        return None
    except OSError:
        return None
    with conn:
        return _converse(conn, argv)


def _connect(path: Path) -> socket.socket:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(os.fspath(path))
    except BaseException:
        conn.close()
        raise
    return conn


def _request(argv: Sequence[str]) -> bytes:
    umask = os.umask(0o077)
    os.umask(umask)
    streams = {
        name: {
            "encoding": getattr(stream, "encoding", None) or "utf-8",
            "errors": getattr(stream, "errors", None) or "strict",
            "line_buffering": bool(getattr(stream, "line_buffering", False)),
        }
        for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
    }
    body = {
        "argv": list(argv),
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "umask": umask,
        "streams": streams,
    }
    data = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogateescape")
    return len(data).to_bytes(4, "big") + data


def _converse(conn: socket.socket, argv: Sequence[str]) -> int | None:
    """Send our streams and the request; forward signals to the child until it exits."""
    try:
        request = _request(argv)
        socket.send_fds(conn, [b"S"], [0, 1, 2])
        conn.sendall(request)
    except (OSError, ValueError):
        return None  # e.g. a closed stdin, or a worker that went away: nothing ran
    reader = conn.makefile("rb")
    first = reader.readline()
    if not first.startswith(b"pid "):
        return None  # the worker declined before running anything
    child = int(first.split()[1])
    previous = {sig: signal.signal(sig, _forward_to(child)) for sig in _FORWARDED}
    try:
        last = reader.readline()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if last.startswith(b"exit "):
        return int(last.split()[1])
    sys.stderr.write(
        "error: the warm worker answering this question stopped before it finished\n"
        "hint: Run the question again; SOPHIA_WARM=off answers it in this process.\n"
    )
    return 1


def _forward_to(child: int) -> Callable[[int, FrameType | None], None]:
    def forward(signum: int, _frame: FrameType | None) -> None:
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    return forward


def start_worker(path: Path, idle_s: int) -> None:
    """Start a detached worker for `path`; a second one started at once just exits.

    Not again within `RETRY_AFTER_FAILURE_S` of a worker for this address failing to start.
    """
    import subprocess

    try:
        if time.time() - path.with_suffix(".failed").stat().st_mtime < RETRY_AFTER_FAILURE_S:
            return
    except OSError:
        pass  # no failure on record
    log = path.with_suffix(".log")
    try:
        with open(log, "ab", opener=lambda p, f: os.open(p, f, 0o600)) as sink:
            subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "sophia_cli.warm.worker", os.fspath(path), str(idle_s)],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                cwd="/",
                start_new_session=True,
                close_fds=True,
            )
    except OSError:
        pass  # no worker: every question keeps answering in its own process
