"""`move {from, to}`: move a file and rewrite imports of and references to it."""

from __future__ import annotations

from pathlib import PurePosixPath
from posixpath import normpath

from sophia_cli.core.migrate.models import Refusal, StepReport
from sophia_cli.core.migrate.plan import MoveStep
from sophia_cli.core.migrate.steps import references
from sophia_cli.core.migrate.workspace import WorkFile, Workspace


def _refuse(ws: Workspace, step: MoveStep, index: int, reason: str) -> None:
    ws.refusals.append(Refusal(step=index, kind=step.kind, path=step.source, reason=reason))


def _inside(path: str) -> bool:
    clean = normpath(path)
    return not clean.startswith(("../", "/")) and clean not in {"..", "."}


def _rewrite(wf: WorkFile, old: str, new: str) -> int:
    """Rewrite imports of the moved module and mentions of its path in one file."""
    edits = 0
    old_module, new_module = references.module_name(old), references.module_name(new)
    if wf.path.endswith(".py") and old_module and new_module:
        from_import = references.from_import_pattern(old_module)
        if from_import is not None and "." in new_module:
            package, leaf = new_module.rsplit(".", 1)
            wf.text, n = from_import.subn(
                lambda m: f"{m['indent']}from {package} import {leaf}{m['alias'] or ''}", wf.text
            )
            edits += n
        wf.text, n = references.dotted_pattern(old_module).subn(new_module, wf.text)
        edits += n
    wf.text, n = references.path_pattern(old).subn(new, wf.text)
    return edits + n


def run(step: MoveStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Move the file in the plan, then fix every reference in Python files and the plan's globs."""
    old, new = normpath(step.source), normpath(step.target)
    result = StepReport(index=index, kind=step.kind, summary=f"{old} -> {new}")
    if not (_inside(old) and _inside(new)):
        _refuse(ws, step, index, "paths must stay inside the root")
        return result
    moving = ws.find(old)
    if moving is None:
        result.notes.append(f"nothing to move: {old} is not in the tree")
        return result
    if ws.occupied(new):
        _refuse(ws, step, index, f"{new} already exists")
        return result
    blocked = [p for p in PurePosixPath(new).parents if (ws.root / p).is_file()]
    if blocked:
        _refuse(ws, step, index, f"{blocked[0]} is a file, not a folder")
        return result
    moving.path = new
    result.files, result.edits = 1, 1
    seen: set[int] = set()
    for wf in ws.live(globs) + ws.live(references.PY_GLOBS):
        if id(wf) in seen:
            continue
        seen.add(id(wf))
        edits = _rewrite(wf, old, new)
        if edits:
            wf.edits += edits
            result.files += 1 if wf is not moving else 0
            result.edits += edits
    moving.edits += 1
    return result
