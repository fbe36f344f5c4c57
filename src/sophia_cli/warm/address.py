"""Where a warm worker listens: a private folder, and a socket named after what it serves."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import sophia_cli

# Shell bookkeeping that changes from one prompt to the next without changing what a
# command does; a child of the worker gets the caller's values anyway.
_VOLATILE = frozenset({"PWD", "OLDPWD", "_", "SHLVL", "COLUMNS", "LINES", "TERM_SESSION_ID"})
_OFF = frozenset({"0", "off", "false", "no"})
DEFAULT_IDLE_S = 900
_SOCKET_PATH_MAX = 104  # the smallest sun_path of the systems we run on, less its NUL


def enabled(environ: Mapping[str, str]) -> bool:
    """Whether `ask` may use a warm worker: on unless SOPHIA_WARM says off."""
    return environ.get("SOPHIA_WARM", "on").strip().lower() not in _OFF


def idle_seconds(environ: Mapping[str, str]) -> int:
    """How long a worker waits for a question before it stops (SOPHIA_WARM_IDLE_S)."""
    raw = environ.get("SOPHIA_WARM_IDLE_S", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_IDLE_S
    except ValueError:
        return DEFAULT_IDLE_S


def code_stamp() -> str:
    """What identifies the installed code: every file's name, size and modification time.

    An upgrade or an edit in an editable install gives a new stamp, so the worker that
    imported the old code is never asked again (about a millisecond for ~300 files).
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(sys.executable.encode())
    stack = [os.path.dirname(sophia_cli.__file__)]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(entry.path)
                    continue
                stat = entry.stat()
                digest.update(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def fingerprint(environ: Mapping[str, str]) -> str:
    """A name for (environment, code): two callers share a worker only if both match."""
    digest = hashlib.blake2b(digest_size=10)
    digest.update(code_stamp().encode())
    for name in sorted(environ):
        if name not in _VOLATILE:
            digest.update(f"{name}\0{environ[name]}\0".encode(errors="surrogateescape"))
    return digest.hexdigest()


def runtime_folder(environ: Mapping[str, str]) -> Path | None:
    """The user's private folder for sockets, created 0700; None when it is not private.

    XDG_RUNTIME_DIR when the session has one, else /tmp/sophia-<uid>. A folder someone
    else owns or can read is never used: a worker's socket carries the caller's environment.
    """
    base = environ.get("XDG_RUNTIME_DIR") or ""
    folder = Path(base) / "sophia" if base else Path("/tmp") / f"sophia-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=bool(base), exist_ok=True)
        stat = folder.lstat()
    except OSError:
        return None
    private = stat.st_uid == os.getuid() and stat.st_mode & 0o077 == 0
    return folder if private and os.path.isdir(folder) and not folder.is_symlink() else None


def socket_path(environ: Mapping[str, str]) -> Path | None:
    """The socket of the worker for this environment and code, or None if there can be none."""
    folder = runtime_folder(environ)
    if folder is None:
        return None
    path = folder / f"ask-{fingerprint(environ)}.sock"
    return path if len(os.fsencode(path)) <= _SOCKET_PATH_MAX else None
