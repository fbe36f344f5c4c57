"""`move {from, to}`: move a file and rewrite imports of and references to it."""

from __future__ import annotations

from pathlib import PurePosixPath
from posixpath import normpath

from sophia_cli.core.migrate import references
from sophia_cli.core.migrate.models import Refusal, Rewrite, StepReport
from sophia_cli.core.migrate.plan import MoveStep
from sophia_cli.core.migrate.pymove import Move, rewrite_python
from sophia_cli.core.migrate.workspace import WorkFile, Workspace


def _refuse(ws: Workspace, step: MoveStep, index: int, reason: str) -> None:
    ws.refusals.append(Refusal(step=index, kind=step.kind, path=step.source, reason=reason))


def _inside(path: str) -> bool:
    clean = normpath(path)
    return not clean.startswith(("../", "/")) and clean not in {"..", "."}


def _rewrite_python(
    wf: WorkFile, move: Move, moving: WorkFile, old: str, ws: Workspace, index: int
) -> int:
    """Imports, module-path strings and import-bound chains, on the syntax tree."""
    if wf is not moving and move.old_leaf not in wf.text:
        return 0
    before = references.package_of(old) if wf is moving else references.package_of(wf.path)
    result = rewrite_python(
        wf.text, move, package_before=before, package_after=references.package_of(wf.path)
    )
    if result is None:
        if references.dotted_pattern(move.old).search(wf.text):
            ws.add_spot(wf, 0, 0, f"not valid Python: imports of {move.old} not rewritten", index)
        return 0
    wf.text = result.text
    for edit in result.edits:
        ws.rewrites.append(
            Rewrite(step=index, path=wf.path, line=edit.line, old=edit.old, new=edit.new)
        )
    for line, reason in result.doubts:
        ws.add_spot(
            wf, _offset_of_line(wf.text, line), _offset_of_line(wf.text, line), reason, index
        )
    return len(result.edits)


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(max(line - 1, 0)):
        found = text.find("\n", offset)
        if found == -1:
            break
        offset = found + 1
    return offset


def _rewrite_text(
    wf: WorkFile, pattern_old: str, new: str, ws: Workspace, index: int, *, dotted: bool
) -> int:
    """Module paths (`config.manager:main`, `-m config.manager`) or file paths in any file."""
    pattern = (
        references.dotted_pattern(pattern_old) if dotted else references.path_pattern(pattern_old)
    )
    matches = list(pattern.finditer(wf.text))
    for match in matches:
        ws.rewrites.append(
            Rewrite(
                step=index,
                path=wf.path,
                line=ws.line_of(wf, match.start()),
                old=pattern_old,
                new=new,
            )
        )
    if matches:
        wf.text = pattern.sub(new.replace("\\", "\\\\"), wf.text)
    return len(matches)


def run(step: MoveStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Move the file in the plan, then fix every reference in Python files and the plan's globs."""
    old, new = normpath(step.source), normpath(step.target)
    result = StepReport(index=index, kind=step.kind, summary=f"{old} -> {new}")
    if not (_inside(old) and _inside(new)):
        _refuse(ws, step, index, "paths must stay inside the root")
        return result
    if old.endswith("__init__.py") or new.endswith("__init__.py"):
        _refuse(ws, step, index, "moving a package's __init__.py breaks the package; move modules")
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
    old_module, new_module = references.module_name(old), references.module_name(new)
    move = Move(old_module, new_module) if old_module and new_module else None
    seen: set[int] = set()
    for wf in ws.live(globs) + ws.live(references.PY_GLOBS):
        if id(wf) in seen:
            continue
        seen.add(id(wf))
        edits = 0
        if move is not None and wf.path.endswith(".py"):
            edits += _rewrite_python(wf, move, moving, old, ws, index)
        elif move is not None:
            edits += _rewrite_text(wf, move.old, move.new, ws, index, dotted=True)
        edits += _rewrite_text(wf, old, new, ws, index, dotted=False)
        if edits:
            wf.edits += edits
            result.files += 1 if wf is not moving else 0
            result.edits += edits
            if wf.path.endswith(".py"):
                ws.to_verify[id(wf)] = wf
    ws.to_verify[id(moving)] = moving
    _note_outside(ws, index, globs, old, move)
    _note_package(ws, result, new)
    moving.edits += 1
    return result


def _note_outside(
    ws: Workspace, index: int, globs: tuple[str, ...], old: str, move: Move | None
) -> None:
    path = references.path_pattern(old)
    dotted = references.dotted_pattern(move.old) if move else None

    def count(text: str) -> int:
        hits = len(path.findall(text))
        return hits + (len(dotted.findall(text)) if dotted else 0)

    ws.note_outside(index, globs + references.PY_GLOBS, count)


def _note_package(ws: Workspace, result: StepReport, new: str) -> None:
    """A module moved into a folder without __init__.py imports as a namespace package."""
    folder = PurePosixPath(new).parent
    if new.endswith(".py") and str(folder) != "." and ws.find(f"{folder}/__init__.py") is None:
        if not (ws.root / folder / "__init__.py").exists():
            result.notes.append(f"{folder}/ has no __init__.py: it imports as a namespace package")
