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
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sophia_cli.core.errors import ConflictError, InputError
from sophia_cli.core.migrate import journal as jr
from sophia_cli.core.migrate.files import sha256
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
    if not changes:
        return AppliedMigration(
            id="",
            plan=preview.plan,
            root=str(root),
            journal="",
            files_changed=0,
            edits=0,
            refusals=preview.refusals,
            review=len(preview.review),
        )
    with jr.locked(root):
        _verify_unchanged(root, changes)
        migration_id = jr.new_id()
        folder = jr.migrations_dir(root) / migration_id
        try:
            entries, backups = _write_backups(root, folder, changes, preview.git)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # nothing was changed yet
            raise
        record = Journal(
            id=migration_id,
            plan=preview.plan,
            created_at=datetime.now(UTC),
            status="applying",
            entries=entries,
        )
        jr.write_journal(folder, record)
        staged: list[jr.Staged | None] = []
        touched: set[Path] = set()
        try:
            staged.extend(_stage(root, change, migration_id) for change in changes)
            # One sync makes backups and new contents durable before any original is replaced.
            jr.sync_all(backups + [s.temp for s in staged if s is not None])
            if on_start is not None:
                on_start(0, len(changes))
            for done, (change, entry, item) in enumerate(
                zip(changes, entries, staged, strict=True), 1
            ):
                touched |= _commit(root, change, entry, item)
                if progress is not None:
                    progress(done, len(changes))
        finally:
            jr.discard([s for s in staged if s is not None])
        for folder_path in sorted(touched):
            jr.fsync_dir(folder_path)
        jr.write_journal(folder, record.model_copy(update={"status": "applied"}))
    return AppliedMigration(
        id=migration_id,
        plan=preview.plan,
        root=str(root),
        journal=str(folder),
        files_changed=len(changes),
        edits=preview.edits,
        refusals=preview.refusals,
        review=len(preview.review),
        follow_ups=preview.follow_ups,
    )


def _verify_unchanged(root: Path, changes: list[FileChange]) -> None:
    """Every file must still hold what the plan was computed from; targets must be free."""
    stale = [c.path for c in changes if jr.current_sha(root / c.path) != c.before_sha256]
    taken = [
        c.new_path
        for c in changes
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
) -> tuple[list[JournalEntry], list[Path]]:
    """Copy every original into the journal folder (synced with the batch, before any change)."""
    backups = folder / "backups"
    backups.mkdir(parents=True)
    entries, written = [], []
    for index, change in enumerate(changes):
        name = _backup_name(index, change.path)
        original = (root / change.path).read_bytes()
        if sha256(original) != change.before_sha256:
            raise ConflictError(
                f"{change.path} changed while the migration was starting",
                hint="Run the dry run again to see the current plan, then apply.",
            )
        jr.write_plain(backups / name, original)
        written.append(backups / name)
        tracked = git and change.action != "edit" and _tracked(root, change.path)
        entries.append(
            JournalEntry(
                action=change.action,
                path=change.path,
                new_path=change.new_path,
                before_sha256=change.before_sha256,
                after_sha256=change.after_sha256,
                mode=change.mode,
                backup=f"backups/{name}",
                tracked=tracked,
                created_dirs=_missing_dirs(root, change.new_path),
            )
        )
    return entries, written


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


def _stage(root: Path, change: FileChange, migration_id: str) -> jr.Staged | None:
    """Write the new content next to where it will land; None for a delete."""
    if change.action == "delete":
        return None
    assert change.content is not None
    target = root / (change.new_path or change.path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise jr.WriteFailedError(f"cannot create {target.parent}: {exc.strerror or exc}") from exc
    item = jr.stage(target, change.content, change.mode, migration_id)
    item.expect_sha = change.before_sha256 if change.action == "edit" else None
    return item


def _commit(
    root: Path, change: FileChange, entry: JournalEntry, item: jr.Staged | None
) -> set[Path]:
    """Carry out one change; returns the folders whose entries changed (to fsync later)."""
    source = root / change.path
    if change.action == "edit":
        assert item is not None
        jr.commit(item)
        return {source.parent}
    if jr.current_sha(source) != change.before_sha256:
        raise ConflictError(f"{source} changed while the migration was running")
    if item is not None:
        jr.commit(item)
    os.unlink(source)
    if entry.tracked:
        git_index_move(root, change.path, change.new_path)
    return {source.parent} | ({item.target.parent} if item is not None else set())


def _tracked(root: Path, path: str) -> bool:
    done = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--error-unmatch", "--", path],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def git_index_move(root: Path, removed: str | None, added: str | None) -> None:
    """Keep git's index in step (`git mv` / `git rm` semantics); best effort."""
    with contextlib.suppress(OSError):
        if removed:
            subprocess.run(
                ["git", "-C", str(root), "rm", "--cached", "-q", "--", removed],
                capture_output=True,
                check=False,
            )
        if added:
            subprocess.run(
                ["git", "-C", str(root), "add", "--", added], capture_output=True, check=False
            )
