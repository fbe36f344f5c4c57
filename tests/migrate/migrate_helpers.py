"""Helpers shared by the migrate tests (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
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


SERVICE = Path(__file__).parent / "service"


def python_modules(root: Path) -> list[str]:
    """Every importable module of a tree (packages included), as dotted names."""
    modules = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts and all(part.isidentifier() for part in parts):
            modules.append(".".join(parts))
    return modules


def run_python(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter with root on sys.path (no bytecode written)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def broken_modules(root: Path) -> dict[str, str]:
    """Modules of the tree that fail to import in a child interpreter, with the error."""
    broken = {}
    for module in python_modules(root):
        done = run_python(root, f"import {module}")
        if done.returncode != 0:
            broken[module] = done.stderr.strip().splitlines()[-1]
    return broken
