"""`rename_env {old, new}`: rename an environment variable everywhere it is set or read.

A secret's value is never carried over to the new name: a key for one service is not a key
for another, and copying it silently would hide that. Where a file assigns the old secret a
real value, the assignment stays as it is and the plan says "set NEW here"; references
(`os.getenv("OLD")`, `${OLD}`, `secrets.OLD` in CI) are renamed and listed for review.
"""

from __future__ import annotations

import re

from sophia_cli.core.env.mask import name_looks_secret
from sophia_cli.core.migrate.models import Rewrite, StepReport
from sophia_cli.core.migrate.plan import RenameEnvStep
from sophia_cli.core.migrate.workspace import WorkFile, Workspace

# What follows a name that is being assigned: `=v`, `: v`, `"]  = "v"`, `": "v"`.
_ASSIGNED = re.compile(r"""["']?\]?[ \t]*(?:=|:(?!-))[ \t]*["']?(?P<value>[^\s"'#,}]*)""")
_PLACEHOLDER = re.compile(
    r"^(?:|changeme|change[-_]?me|xxx+|\.\.\.|<.*>|your[-_].*|todo|none|null|replace[-_]?me)$",
    re.IGNORECASE,
)


def _defines(text: str, name: str) -> re.Match[str] | None:
    """Where an env-style file assigns `name` (`NAME=`, `export NAME=`, `NAME:`)."""
    return re.search(rf"(?m)^[ \t]*(?:export[ \t]+|-[ \t]+)?{name}[ \t]*[=:]", text)


def _is_env_file(wf: WorkFile) -> bool:
    name = wf.path.rsplit("/", 1)[-1]
    return name.startswith(".env") or name.endswith(".env")


def _literal_value(text: str, start: int, end: int) -> bool:
    """Whether the name at text[start:end] is assigned a real value (not a reference)."""
    if text[max(0, start - 2) : start].endswith(("${", "$")):
        return False
    assigned = _ASSIGNED.match(text, end)
    if assigned is None:
        return False
    value = assigned.group("value")
    return not (value.startswith(("$", "{", "<")) or _PLACEHOLDER.match(value))


def run(step: RenameEnvStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Rename the whole identifier `old` (never `old_X` or `X_old`); values stay untouched.

    This covers `OLD=1`, `export OLD`, `OLD: x` in YAML, `${OLD}`, `$OLD`, `os.environ["OLD"]`,
    `os.getenv("OLD")` and mentions in docs. An env file that already sets the new name
    too is left alone and reported, since keeping one value would be a guess.
    """
    result = StepReport(index=index, kind=step.kind, summary=f"{step.old} -> {step.new}")
    secret = step.secret if step.secret is not None else name_looks_secret(step.old)
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(step.old)}(?![A-Za-z0-9_])")
    for wf in ws.live(globs):
        if step.old not in wf.text:
            continue
        if _is_env_file(wf) and _defines(wf.text, step.new):
            found = _defines(wf.text, step.old)
            if found:
                reason = f"sets both {step.old} and {step.new}; merge by hand"
                ws.add_spot(wf, found.start(), found.end(), reason, index)
                continue
        edits = _rename_in(wf, pattern, step, index, ws, secret=secret)
        if edits:
            wf.edits += edits
            result.files += 1
            result.edits += edits
    ws.note_outside(index, globs, lambda text: len(pattern.findall(text)))
    return result


def _rename_in(
    wf: WorkFile,
    pattern: re.Pattern[str],
    step: RenameEnvStep,
    index: int,
    ws: Workspace,
    *,
    secret: bool,
) -> int:
    pieces: list[str] = []
    last = edits = 0
    for match in pattern.finditer(wf.text):
        line = ws.line_of(wf, match.start())
        if secret and _literal_value(wf.text, match.start(), match.end()):
            reason = f"secret value not moved: set {step.new} here by hand"
            shown = f"{step.old}=•••"
            ws.add_spot(wf, match.start(), match.end(), reason, index, text=shown)
            ws.follow_ups.append(
                f"set {step.new} in {wf.path}:{line} ({step.old}'s value is a credential for "
                f"another service and was not copied); remove {step.old} once {step.new} works"
            )
            continue
        note = None
        if wf.text[max(0, match.start() - 8) : match.start()] == "secrets.":
            note = f"create the CI secret {step.new} before merging"
            ws.follow_ups.append(f"create the CI secret {step.new} ({wf.path}:{line} reads it)")
        ws.rewrites.append(
            Rewrite(step=index, path=wf.path, line=line, old=step.old, new=step.new, note=note)
        )
        pieces += [wf.text[last : match.start()], step.new]
        last, edits = match.end(), edits + 1
    if edits:
        wf.text = "".join(pieces) + wf.text[last:]
    return edits
