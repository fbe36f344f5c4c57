"""The journal under `<root>/.sophia/migrations/<id>/`: durable writes, loading, locking."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from sophia_cli.core.errors import ConflictError, NotFoundError, SophiaError
from sophia_cli.core.migrate.files import JOURNAL_DIR, sha256
from sophia_cli.core.migrate.models import Journal

MIGRATIONS = "migrations"
JOURNAL_FILE = "journal.json"


class WriteFailedError(SophiaError):
    """A file could not be written during apply or rollback."""

    code = "write_failed"
    http_status = 500
    default_hint = "Fix the cause above, then run `sophia migrate rollback` or apply again."


def migrations_dir(root: Path) -> Path:
    return root / JOURNAL_DIR / MIGRATIONS


def new_id() -> str:
    """A sortable, unique migration id such as `20261124T051502Z-3fa9`."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(2)}"


def temp_name(path: Path, migration_id: str) -> Path:
    """The temporary sibling used to replace `path` (known, so rollback can sweep it)."""
    return path.with_name(f".{path.name}.sophia-{migration_id}.tmp")


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int, *, migration_id: str) -> None:
    """Replace `path` with `data` all at once, durably (used for the journal itself)."""
    temp = temp_name(path, migration_id)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_fd(fd, data)
            os.fchmod(fd, stat.S_IMODE(mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise WriteFailedError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_plain(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file without syncing; `sync_all` later makes a whole batch durable at once."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _write_fd(fd, data)
        os.fchmod(fd, stat.S_IMODE(mode))
    finally:
        os.close(fd)


def sync_all(files: list[Path]) -> None:
    """Make a batch of written files durable: one sync(2) where available, else fsync each."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in files:  # pragma: no cover - platforms without sync(2)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class Staged:
    """New content written beside its target, waiting to be renamed over it."""

    temp: Path
    target: Path
    expect_sha: str | None


def stage(path: Path, data: bytes, mode: int, migration_id: str) -> Staged:
    """Write the temporary sibling of `path` (not synced; see `commit_staged`)."""
    temp = temp_name(path, migration_id)
    try:
        write_plain(temp, data, mode)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise WriteFailedError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return Staged(temp=temp, target=path, expect_sha=None)


def commit(staged: Staged) -> None:
    """Rename a staged file over its target, refusing when the target changed meanwhile."""
    if staged.expect_sha is not None and current_sha(staged.target) != staged.expect_sha:
        raise ConflictError(
            f"{staged.target} changed while the migration was running",
            hint="Run `sophia migrate rollback` to undo what was applied, then plan again.",
        )
    try:
        os.replace(staged.temp, staged.target)
    except OSError as exc:
        raise WriteFailedError(f"cannot replace {staged.target}: {exc.strerror or exc}") from exc


def discard(staged: list[Staged]) -> None:
    """Remove temporary files that were never committed."""
    for item in staged:
        item.temp.unlink(missing_ok=True)


def current_sha(path: Path) -> str | None:
    """The sha256 of a regular file's bytes, or None when absent or not a regular file."""
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        return sha256(path.read_bytes())
    except FileNotFoundError:
        return None


def write_journal(folder: Path, journal: Journal) -> None:
    data = journal.model_dump_json(indent=2).encode()
    atomic_write(folder / JOURNAL_FILE, data, 0o644, migration_id=journal.id)


def load_journal(folder: Path) -> Journal:
    try:
        return Journal.model_validate_json((folder / JOURNAL_FILE).read_bytes())
    except FileNotFoundError as exc:
        raise NotFoundError(f"no migration {folder.name} in {folder.parent}") from exc


def journals(root: Path) -> list[Journal]:
    """Every readable journal in the tree, oldest first."""
    folder = migrations_dir(root)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and (entry / JOURNAL_FILE).is_file():
            with contextlib.suppress(ValueError, OSError):
                found.append(load_journal(entry))
    return found


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Only one apply or rollback at a time per tree."""
    folder = migrations_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    ignore = root / JOURNAL_DIR / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# sophia migration journals and backups\n*\n", encoding="utf-8")
    try:
        with FileLock(str(folder / ".lock"), timeout=0):
            yield
    except Timeout as exc:
        raise ConflictError(
            f"another migration is being applied or rolled back in {root}",
            hint="Wait for it to finish, then try again.",
        ) from exc
