"""Helpers shared by the migrate tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every regular file under root (outside `.sophia/`) and its bytes."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (folder == str(root) and d == ".sophia")]
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return dict(sorted(found.items()))


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes | None]]:
    """Every entry under root with its mode, mtime and (for files) bytes."""
    found: dict[str, tuple[int, int, bytes | None]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        found[path.relative_to(root).as_posix()] = (info.st_mode, info.st_mtime_ns, data)
    return found


def git(root: Path, *args: str) -> str:
    """Run git in root with a fixed identity; returns stdout."""
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout
