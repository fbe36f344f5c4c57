"""Undo an applied (or interrupted) migration from its journal, byte for byte."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

from sophia_cli.core.errors import ConflictError, NotFoundError
from sophia_cli.core.migrate import journal as jr
from sophia_cli.core.migrate.apply import git_index_move
from sophia_cli.core.migrate.models import Journal, JournalEntry, RollbackResult

_ORIGINAL, _RESTORE, _EDITED = "original", "restore", "edited"


def pick_journal(root: Path, migration_id: str | None) -> Journal:
    """The named migration, or the latest one not rolled back yet."""
    if migration_id is not None:
        folder = jr.migrations_dir(root) / migration_id
        if not folder.is_dir() or "/" in migration_id:
            raise NotFoundError(
                f"no migration {migration_id} in {root}",
                hint="`sophia migrate history` lists the migrations of a tree.",
            )
        record = jr.load_journal(folder)
        if record.status == "rolled_back":
            raise ConflictError(
                f"migration {migration_id} was already rolled back",
                hint="Nothing to undo; `sophia migrate history` shows its state.",
            )
        return record
    pending = [j for j in jr.journals(root) if j.status != "rolled_back"]
    if not pending:
        raise NotFoundError(
            f"no migration to roll back in {root}",
            hint="`sophia migrate history` lists applied and rolled back migrations.",
        )
    return pending[-1]


def _state(root: Path, entry: JournalEntry) -> str:
    """Is the file as before, as the migration left it, or edited since?"""
    old = jr.current_sha(root / entry.path)
    if entry.action == "edit":
        if old == entry.before_sha256:
            return _ORIGINAL
        return _RESTORE if old == entry.after_sha256 else _EDITED
    new = jr.current_sha(root / entry.new_path) if entry.new_path else None
    if old == entry.before_sha256 and new is None:
        return _ORIGINAL
    if old is None and (entry.action == "delete" or new == entry.after_sha256):
        return _RESTORE
    return _EDITED


def rollback(root: Path, migration_id: str | None = None, *, force: bool = False) -> RollbackResult:
    """Restore every file of the migration; refuses (listing them) files edited since."""
    root = root.resolve()
    if not jr.migrations_dir(root).is_dir():
        raise NotFoundError(
            f"no migration to roll back in {root}",
            hint="Pass the tree's root with --path; `sophia migrate history` lists migrations.",
        )
    with jr.locked(root):
        record = pick_journal(root, migration_id)
        folder = jr.migrations_dir(root) / record.id
        _sweep_temp_files(root, record)
        states = [(entry, _state(root, entry)) for entry in record.entries]
        edited = [
            e.new_path or e.path if e.action == "move" else e.path
            for e, s in states
            if s == _EDITED
        ]
        if edited and not force:
            raise ConflictError(
                f"{len(edited)} file(s) changed since migration {record.id}: "
                + ", ".join(edited[:10]),
                hint="Keep those edits by restoring by hand, or pass --force to overwrite them.",
            )
        pending = [entry for entry, state in reversed(states) if state != _ORIGINAL]
        _restore_all(root, folder, pending, record.id)
        restored = [entry.path for entry in pending]
        jr.write_journal(
            folder,
            record.model_copy(
                update={"status": "rolled_back", "rolled_back_at": datetime.now(UTC)}
            ),
        )
    return RollbackResult(
        id=record.id,
        root=str(root),
        restored=sorted(restored),
        already_original=sorted(e.path for e, s in states if s == _ORIGINAL),
        refused=[],
    )


def _restore_all(root: Path, folder: Path, entries: list[JournalEntry], migration_id: str) -> None:
    """Stage every backup beside its original path, sync once, then rename each into place."""
    staged: list[jr.Staged] = []
    try:
        for entry in entries:
            source = root / entry.path
            source.parent.mkdir(parents=True, exist_ok=True)
            data = (folder / entry.backup).read_bytes()
            staged.append(jr.stage(source, data, entry.mode, f"{migration_id}-rollback"))
        jr.sync_all([item.temp for item in staged])
        for entry, item in zip(entries, staged, strict=True):
            jr.commit(item)
            _remove_created(root, entry)
        for parent in sorted({item.target.parent for item in staged}):
            jr.fsync_dir(parent)
    finally:
        jr.discard(staged)


def _remove_created(root: Path, entry: JournalEntry) -> None:
    """Undo what a move created (the new file, its new folders) and fix git's index."""
    if entry.action == "move" and entry.new_path:
        target = root / entry.new_path
        if target.exists() or target.is_symlink():
            os.unlink(target)
        for folder_rel in entry.created_dirs:
            with contextlib.suppress(OSError):
                (root / folder_rel).rmdir()
    if entry.tracked:
        git_index_move(root, entry.new_path, entry.path)


def _sweep_temp_files(root: Path, record: Journal) -> None:
    """Remove temporary files a killed apply or rollback may have left next to targets."""
    for entry in record.entries:
        for rel in (entry.path, entry.new_path):
            if rel:
                for suffix in (record.id, f"{record.id}-rollback"):
                    jr.temp_name(root / rel, suffix).unlink(missing_ok=True)
