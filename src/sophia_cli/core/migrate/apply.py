"""Apply a computed preview: verify, back up, journal, then replace each file atomically.

Order matters for crash safety. Backups and the journal (status `applying`) are durable
before the first file changes; each file is replaced by rename, so it is wholly old or
wholly new at any instant; the journal is marked `applied` last. A run killed at any point
leaves a journal that `rollback` understands.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sophia_cli.core.errors import ConflictError, InputError
from sophia_cli.core.migrate import journal as jr
from sophia_cli.core.migrate.models import (
    AppliedMigration,
    FileChange,
    Journal,
    JournalEntry,
    MigrationPreview,
)

Progress = Callable[[int, int], None]


def apply_preview(
    preview: MigrationPreview, *, progress: Progress | None = None, on_start: Progress | None = None
) -> AppliedMigration:
    """Write the preview's changes to its tree and journal them; refuses a stale preview."""
    root = Path(preview.root)
    changes = preview.changes
    for change in changes:
        if change.action != "delete" and change.content is None:
            raise InputError(
                f"the preview has no new content for {change.path}",
                hint="Compute the plan again in this process, then apply it.",
            )
    with jr.locked(root):
        _verify_unchanged(root, changes)
        migration_id = jr.new_id()
        folder = jr.migrations_dir(root) / migration_id
        entries = _write_backups(root, folder, changes, preview.git)
        record = Journal(id=migration_id, plan=preview.plan, created_at=datetime.now(UTC),
                         status="applying", entries=entries)
        jr.write_journal(folder, record)
        if on_start is not None:
            on_start(0, len(changes))
        for done, (change, entry) in enumerate(zip(changes, entries, strict=True), 1):
            _apply_one(root, change, entry, migration_id)
            if progress is not None:
                progress(done, len(changes))
        jr.write_journal(folder, record.model_copy(update={"status": "applied"}))
    return AppliedMigration(
        id=migration_id, plan=preview.plan, root=str(root), journal=str(folder),
        files_changed=len(changes), edits=preview.edits, refusals=preview.refusals,
        review=len(preview.review),
    )


def _verify_unchanged(root: Path, changes: list[FileChange]) -> None:
    """Every file must still hold what the plan was computed from; targets must be free."""
    stale = [c.path for c in changes if jr.current_sha(root / c.path) != c.before_sha256]
    taken = [
        c.new_path for c in changes
        if c.new_path and ((root / c.new_path).exists() or (root / c.new_path).is_symlink())
    ]
    if stale or taken:
        names = ", ".join((stale + [t for t in taken if t])[:10])
        raise ConflictError(
            f"{len(stale) + len(taken)} file(s) changed since the plan was computed: {names}",
            hint="Run the dry run again to see the current plan, then apply.",
        )


def _backup_name(index: int, path: str) -> str:
    return f"{index:06d}-{re.sub(r'[^A-Za-z0-9._-]', '_', path)[-80:]}"


def _write_backups(
    root: Path, folder: Path, changes: list[FileChange], git: bool
) -> list[JournalEntry]:
    """Copy every original into the journal folder, durably, before anything is touched."""
    backups = folder / "backups"
    backups.mkdir(parents=True)
    entries = []
    for index, change in enumerate(changes):
        name = _backup_name(index, change.path)
        data = (root / change.path).read_bytes()
        jr.atomic_write(backups / name, data, 0o600, migration_id="backup")
        tracked = git and change.action != "edit" and _tracked(root, change.path)
        entries.append(JournalEntry(
            action=change.action, path=change.path, new_path=change.new_path,
            before_sha256=change.before_sha256, after_sha256=change.after_sha256,
            mode=change.mode, backup=f"backups/{name}", tracked=tracked,
            created_dirs=_missing_dirs(root, change.new_path),
        ))
    jr.fsync_dir(backups)
    return entries


def _missing_dirs(root: Path, rel: str | None) -> list[str]:
    """Folders a move must create, deepest first, so rollback can remove them again."""
    if rel is None:
        return []
    missing = []
    parent = Path(rel).parent
    while parent != Path(".") and not (root / parent).exists():
        missing.append(parent.as_posix())
        parent = parent.parent
    return missing


def _apply_one(root: Path, change: FileChange, entry: JournalEntry, migration_id: str) -> None:
    source = root / change.path
    if change.action == "edit":
        assert change.content is not None
        jr.atomic_write(source, change.content, change.mode, migration_id=migration_id,
                        expect_sha=change.before_sha256)
        return
    if jr.current_sha(source) != change.before_sha256:
        raise ConflictError(f"{source} changed while the migration was running")
    if change.action == "move":
        assert change.content is not None and change.new_path is not None
        target = root / change.new_path
        target.parent.mkdir(parents=True, exist_ok=True)
        jr.atomic_write(target, change.content, change.mode, migration_id=migration_id)
    os.unlink(source)
    jr.fsync_dir(source.parent)
    if entry.tracked:
        git_index_move(root, change.path, change.new_path)


def _tracked(root: Path, path: str) -> bool:
    done = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--error-unmatch", "--", path],
        capture_output=True, check=False,
    )
    return done.returncode == 0


def git_index_move(root: Path, removed: str | None, added: str | None) -> None:
    """Keep git's index in step (`git mv` / `git rm` semantics); best effort."""
    with contextlib.suppress(OSError):
        if removed:
            subprocess.run(["git", "-C", str(root), "rm", "--cached", "-q", "--", removed],
                           capture_output=True, check=False)
        if added:
            subprocess.run(["git", "-C", str(root), "add", "--", added],
                           capture_output=True, check=False)
