"""Compute what a plan would do to a tree, in memory: the dry run."""

from __future__ import annotations

import difflib
from pathlib import Path

from sophia_cli.core.env.scan.scanner import redact_secrets
from sophia_cli.core.errors import NotFoundError
from sophia_cli.core.migrate.files import candidate_files, git_toplevel, sha256
from sophia_cli.core.migrate.models import FileChange, ImportTarget, MigrationPreview, Refusal
from sophia_cli.core.migrate.plan import Plan
from sophia_cli.core.migrate.references import module_name
from sophia_cli.core.migrate.steps import run_step
from sophia_cli.core.migrate.workspace import WorkFile, Workspace

_DIFF_CONTEXT = 2


def compute_plan(
    plan: Plan,
    root: Path,
    *,
    include_untracked: bool = False,
    force: bool = False,
    include: tuple[str, ...] = (),
) -> MigrationPreview:
    """Run every step on an in-memory copy of the tree; nothing on disk changes.

    `include` globs add files beyond the plan's globs, history files among them.
    """
    if not root.is_dir():
        raise NotFoundError(f"{root} is not a folder", hint="Pass the root of the tree to migrate.")
    root = root.resolve()
    git = git_toplevel(root) is not None
    ws = Workspace(
        root=root,
        candidates=candidate_files(root, include_untracked=include_untracked),
        force=force,
        git=git,
        exclude=plan.exclude,
        include=include,
    )
    reports = [run_step(step, i, plan.globs, ws) for i, step in enumerate(plan.steps, 1)]
    changes = [c for c in (_change(wf, ws) for wf in ws.files.values()) if c is not None]
    return MigrationPreview(
        plan=plan.name,
        root=str(root),
        files_scanned=len(ws.files),
        steps=reports,
        changes=sorted(changes, key=lambda c: c.path),
        review=ws.review,
        refusals=ws.refusals,
        skipped=sorted(ws.skipped.values(), key=lambda s: s.path),
        git=git,
        rewrites=ws.rewrites,
        warnings=ws.warnings,
        not_scanned=ws.not_scanned,
        follow_ups=ws.follow_ups,
        verify=_import_targets(ws),
    )


def _change(wf: WorkFile, ws: Workspace) -> FileChange | None:
    """The FileChange for a file the steps touched, or None."""
    source = wf.source
    moved = wf.path != wf.original
    if not wf.deleted and not moved and wf.text == source.text:
        return None
    base = {
        "path": wf.original,
        "before_sha256": source.sha256,
        "encoding": source.encoding,
        "mode": source.mode,
        "edits": wf.edits,
    }
    if wf.deleted:
        return FileChange(action="delete", diff=_diff(wf.original, None, source.text, ""), **base)
    try:
        content = wf.text.encode(source.encoding)
    except UnicodeEncodeError as exc:
        ws.refusals.append(
            Refusal(
                step=0,
                kind="encode",
                path=wf.original,
                reason=f"the new text cannot be written as {source.encoding}: {exc.reason}",
            )
        )
        return None
    return FileChange(
        action="move" if moved else "edit",
        new_path=wf.path if moved else None,
        after_sha256=sha256(content),
        content=content,
        diff=_diff(wf.original, wf.path, source.text, wf.text),
        **base,
    )


def _diff(old_path: str, new_path: str | None, before: str, after: str) -> str:
    """A unified diff for people (line endings normalised for display only)."""
    lines = difflib.unified_diff(
        before.splitlines(),
        after.splitlines(),
        fromfile=f"a/{old_path}",
        tofile="/dev/null" if new_path is None else f"b/{new_path}",
        lineterm="",
        n=_DIFF_CONTEXT,
    )
    text = redact_secrets("\n".join(lines))
    if not text and new_path and new_path != old_path:
        text = f"rename from {old_path}\nrename to {new_path}"
    return text


def _import_targets(ws: Workspace) -> list[ImportTarget]:
    """Modules a move touched, to import before and after --apply (deleted ones excluded)."""
    targets = []
    for wf in ws.to_verify.values():
        before, after = module_name(wf.original), module_name(wf.path)
        if wf.deleted or before is None or after is None:
            continue
        targets.append(
            ImportTarget(
                path_before=wf.original,
                module_before=before,
                path_after=wf.path,
                module_after=after,
            )
        )
    return sorted(targets, key=lambda t: t.path_after)
