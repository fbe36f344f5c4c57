"""Which files a scan reads: tracked and unignored files, minus lock files and binaries."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

LOCK_FILES = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
        "Cargo.lock",
        "go.sum",
        "composer.lock",
        "Gemfile.lock",
        "bun.lockb",
    }
)
_SKIP_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "dist",
        "build",
        ".tox",
    }
)
_BINARY_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".ico",
        ".pdf",
        ".zip",
        ".gz",
        ".tgz",
        ".bz2",
        ".xz",
        ".whl",
        ".so",
        ".dylib",
        ".dll",
        ".exe",
        ".pyc",
        ".woff",
        ".woff2",
        ".ttf",
        ".mp4",
        ".mp3",
        ".sqlite",
        ".db",
        ".parquet",
        ".jar",
        ".class",
    }
)
MAX_BYTES = 2_000_000


def candidate_files(root: Path) -> Iterator[Path]:
    """Files under `root` to scan: git's view (tracked + untracked, not ignored) if a repo."""
    listed = _git_files(root)
    paths = listed if listed is not None else _walk(root)
    for path in paths:
        if scannable_name(path):
            yield path


def scannable_name(path: Path) -> bool:
    """False for lock files, minified bundles and binary formats (judged by name)."""
    if path.name in LOCK_FILES or path.suffix.lower() in _BINARY_SUFFIXES:
        return False
    return not path.name.endswith(".min.js")


def read_text(path: Path) -> str | None:
    """The file as text, or None for binaries, huge files and unreadable files."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def _git_files(root: Path) -> list[Path] | None:
    try:
        result = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return None
    if result.returncode != 0:
        return None
    names = [n for n in result.stdout.decode("utf-8", "replace").split("\0") if n]
    return [root / name for name in names if (root / name).is_file()]


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            yield Path(folder) / name
