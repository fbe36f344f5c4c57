"""`delete {path}`: remove a file, refused while anything imports or references it."""

from __future__ import annotations

from posixpath import normpath

from sophia_cli.core.migrate import references
from sophia_cli.core.migrate.models import Refusal, StepReport
from sophia_cli.core.migrate.plan import DeleteStep
from sophia_cli.core.migrate.workspace import WorkFile, Workspace


def _references(wf: WorkFile, path: str) -> bool:
    """Whether wf imports the module at `path`, names it as a module path, or names the path."""
    if references.path_pattern(path).search(wf.text):
        return True
    module = references.module_name(path)
    if module is None or module.rpartition(".")[2] not in wf.text:
        return False
    if not wf.path.endswith(".py"):
        # Config, YAML commands, Procfiles, Dockerfiles, CI files, docs: a module path.
        return references.dotted_pattern(module).search(wf.text) is not None
    lines = references.python_references(wf.text, module, references.package_of(wf.path))
    if lines is not None:
        return bool(lines)
    # Not valid Python: any textual import or mention counts, so the refusal errs safe.
    return references.dotted_pattern(module).search(wf.text) is not None or bool(
        references.same_folder(wf.path, path)
        and references.relative_import_pattern(path).search(wf.text)
    )


def run(step: DeleteStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Mark the file deleted unless other files still use it (then refuse, listing them).

    Every readable file of the tree is searched, not only the plan's globs: a Procfile or a
    CI file naming the module breaks as surely as an import. History files do not count.
    """
    path = normpath(step.path)
    result = StepReport(index=index, kind=step.kind, summary=f"delete {path}")
    target = ws.find(path)
    if target is None:
        result.notes.append(f"nothing to delete: {path} is not in the tree")
        return result
    users = sorted(
        {
            wf.path
            for wf in ws.all_files()
            if wf is not target and not ws.is_history(wf.path) and _references(wf, path)
        }
    )
    if users and not ws.force:
        ws.refusals.append(
            Refusal(
                step=index,
                kind=step.kind,
                path=path,
                reason=f"still imported or referenced by {len(users)} file(s); use --force",
                referenced_by=users,
            )
        )
        return result
    if users:
        result.notes.append(f"deleted although referenced by {', '.join(users)} (--force)")
    target.deleted = True
    result.files, result.edits = 1, 1
    target.edits += 1
    return result
