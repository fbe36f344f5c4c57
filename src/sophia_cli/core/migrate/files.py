"""Which files a migration may touch, and reading them so they can be written back byte-exact.

In a git repository only tracked files are candidates (plus untracked, not ignored ones when
asked); elsewhere the tree is walked honouring every `.gitignore`. Binaries, symlinks and
anything resolving outside the root are never edited. Text is decoded as UTF-8, else Latin-1,
both of which round-trip every byte, so line endings, BOMs and the final newline survive.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec
from pydantic import BaseModel

JOURNAL_DIR = ".sophia"
_ALWAYS_PRUNED = {".git", JOURNAL_DIR, ".hg", ".svn"}
_MAX_BYTES = 8 * 1024 * 1024
_BINARY_SNIFF = 8192


class Skipped(BaseModel):
    """A candidate file that was left alone, and why."""

    path: str
    reason: str


@dataclass
class SourceFile:
    """One text file as read from disk."""

    rel: str
    data: bytes
    text: str
    encoding: str
    mode: int

    @property
    def sha256(self) -> str:
        return sha256(self.data)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode(data: bytes) -> tuple[str, str]:
    """Text and the codec that gives back exactly these bytes."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [x for option in match.group(1).split(",") for x in _expand_braces(head + option + tail)]


def _glob_regex(pattern: str) -> str:
    """A regex for a glob over posix relative paths; `**/` spans folders."""
    anchored = "/" in pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    return body if anchored else f"(?:.*/)?{body}"


def glob_matcher(globs: Iterable[str]) -> Callable[[str], bool]:
    """A predicate true for relative posix paths matched by any of the globs."""
    parts = [_glob_regex(p) for glob in globs for p in _expand_braces(glob.lstrip("/"))]
    compiled = re.compile("|".join(f"(?:{p})" for p in parts) or "(?!)")
    return lambda rel: compiled.fullmatch(rel) is not None


def git_toplevel(root: Path) -> Path | None:
    """The work tree holding root, or None when root is not in a git repository."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def _git_files(root: Path, include_untracked: bool) -> list[str]:
    args = ["git", "-C", str(root), "ls-files", "-z", "--cached"]
    if include_untracked:
        args += ["--others", "--exclude-standard"]
    done = subprocess.run(args, capture_output=True, check=True)
    names = {name.decode("utf-8", "surrogateescape") for name in done.stdout.split(b"\0") if name}
    return sorted(n for n in names if n.split("/", 1)[0] not in _ALWAYS_PRUNED)


def _ignore_spec(folder: Path) -> pathspec.GitIgnoreSpec | None:
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        return None
    lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _walk_files(root: Path) -> Iterator[str]:
    """Every file under root that no `.gitignore` on its way excludes, folder by folder (a
    caller that stops early walks no further)."""
    specs: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def ignored(rel: str, is_dir: bool) -> bool:
        parts = rel.split("/")
        for depth in range(len(parts)):
            base = "/".join(parts[:depth])
            spec = specs.get(base)
            sub = "/".join(parts[depth:]) + ("/" if is_dir else "")
            if spec is not None and spec.match_file(sub):
                return True
        return False

    for folder, dirs, files in os.walk(root):
        rel_dir = Path(folder).relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        specs[rel_dir] = _ignore_spec(Path(folder))
        prefix = f"{rel_dir}/" if rel_dir else ""
        dirs[:] = sorted(
            d for d in dirs if d not in _ALWAYS_PRUNED and not ignored(prefix + d, True)
        )
        yield from (prefix + f for f in sorted(files) if not ignored(prefix + f, False))
        # A symlinked folder is listed in dirs but never entered; report it as a file.
        yield from (prefix + d for d in dirs if (Path(folder) / d).is_symlink())


def candidate_files(root: Path, *, include_untracked: bool = False) -> list[str]:
    """Relative posix paths a migration may consider, before globs and content checks."""
    return list(iter_candidate_files(root, include_untracked=include_untracked))


def iter_candidate_files(root: Path, *, include_untracked: bool = False) -> Iterator[str]:
    """`candidate_files` one at a time: outside a repository the tree is walked lazily."""
    if git_toplevel(root) is not None:
        return iter(_git_files(root, include_untracked))
    return _walk_files(root)


def read_source(root: Path, rel: str) -> SourceFile | Skipped | None:
    """The file's content, a reason to leave it alone, or None when it no longer exists."""
    path = root / rel
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        inside = _is_inside(root, path)
        return Skipped(path=rel, reason="symlink" if inside else "symlink outside the root")
    if not stat.S_ISREG(info.st_mode):
        return Skipped(path=rel, reason="not a regular file")
    if not _is_inside(root, path):
        return Skipped(path=rel, reason="outside the root")
    if info.st_size > _MAX_BYTES:
        return Skipped(path=rel, reason="larger than 8 MiB")
    data = path.read_bytes()
    if b"\0" in data[:_BINARY_SNIFF]:
        return Skipped(path=rel, reason="binary")
    text, encoding = decode(data)
    return SourceFile(rel=rel, data=data, text=text, encoding=encoding, mode=info.st_mode)


def _is_inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
