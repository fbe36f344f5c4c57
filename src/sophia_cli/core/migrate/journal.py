"""The journal under `<root>/.sophia/migrations/<id>/`: durable writes, loading, locking."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
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


def atomic_write(
    path: Path, data: bytes, mode: int, *, migration_id: str, expect_sha: str | None = None
) -> None:
    """Replace `path` with `data` all at once; `expect_sha` guards against a concurrent edit."""
    temp = temp_name(path, migration_id)
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, stat.S_IMODE(mode))
            os.fsync(fd)
        finally:
            os.close(fd)
        if expect_sha is not None and current_sha(path) != expect_sha:
            temp.unlink(missing_ok=True)
            raise ConflictError(
                f"{path} changed while the migration was running",
                hint="Compute the plan again (dry run), then apply.",
            )
        os.replace(temp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise WriteFailedError(f"cannot write {path}: {exc.strerror or exc}") from exc


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
