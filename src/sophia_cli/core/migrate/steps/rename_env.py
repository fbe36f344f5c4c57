"""`rename_env {old, new}`: rename an environment variable everywhere it is set or read."""

from __future__ import annotations

import re

from sophia_cli.core.migrate.models import StepReport
from sophia_cli.core.migrate.plan import RenameEnvStep
from sophia_cli.core.migrate.workspace import WorkFile, Workspace


def _defines(text: str, name: str) -> re.Match[str] | None:
    """Where an env-style file assigns `name` (`NAME=`, `export NAME=`, `NAME:`)."""
    return re.search(rf"(?m)^[ \t]*(?:export[ \t]+|-[ \t]+)?{name}[ \t]*[=:]", text)


def _is_env_file(wf: WorkFile) -> bool:
    name = wf.path.rsplit("/", 1)[-1]
    return name.startswith(".env") or name.endswith(".env")


def run(step: RenameEnvStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Rename the whole identifier `old` (never `old_X` or `X_old`); values stay untouched.

    This covers `OLD=1`, `export OLD`, `OLD: x` in YAML, `${OLD}`, `$OLD`, `os.environ["OLD"]`,
    `os.getenv("OLD")` and mentions in docs. An env file that already sets the new name
    too is left alone and reported, since keeping one value would be a guess.
    """
    result = StepReport(index=index, kind=step.kind, summary=f"{step.old} -> {step.new}")
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(step.old)}(?![A-Za-z0-9_])")
    for wf in ws.live(globs):
        if step.old not in wf.text:
            continue
        if _is_env_file(wf) and _defines(wf.text, step.new):
            found = _defines(wf.text, step.old)
            if found:
                ws.add_spot(
                    wf,
                    found.start(),
                    found.end(),
                    f"sets both {step.old} and {step.new}; merge by hand",
                    index,
                )
                continue
        new_text, edits = pattern.subn(step.new, wf.text)
        if edits:
            wf.text, wf.edits = new_text, wf.edits + edits
            result.files += 1
            result.edits += edits
    return result
