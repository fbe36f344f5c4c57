"""`replace_text {pattern, replacement, globs}`: a literal or regex rewrite for what remains."""

from __future__ import annotations

import re

from sophia_cli.core.migrate.models import Rewrite, StepReport
from sophia_cli.core.migrate.plan import ReplaceTextStep
from sophia_cli.core.migrate.workspace import Workspace


def compile_pattern(step: ReplaceTextStep) -> re.Pattern[str]:
    """The step's pattern with word boundaries where the pattern starts or ends with a word."""
    flags = re.IGNORECASE if step.ignore_case else 0
    if step.regex:
        body = rf"\b(?:{step.pattern})\b" if step.word_boundary else step.pattern
        return re.compile(body, flags)
    body = re.escape(step.pattern)
    if step.word_boundary:
        head = r"(?<!\w)" if re.match(r"\w", step.pattern) else ""
        tail = r"(?!\w)" if re.search(r"\w$", step.pattern) else ""
        body = f"{head}{body}{tail}"
    return re.compile(body, flags)


def run(step: ReplaceTextStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Rewrite every match in the files selected by the step's globs (or the plan's)."""
    result = StepReport(
        index=index, kind=step.kind, summary=f"{step.pattern!r} -> {step.replacement!r}"
    )
    pattern = compile_pattern(step)

    def replacement(match: re.Match[str]) -> str:
        return match.expand(step.replacement) if step.regex else step.replacement

    selected = step.globs or globs
    for wf in ws.live(selected):
        matches = [m for m in pattern.finditer(wf.text) if replacement(m) != m.group()]
        if not matches:
            continue
        for match in matches:
            ws.rewrites.append(
                Rewrite(
                    step=index,
                    path=wf.path,
                    line=ws.line_of(wf, match.start()),
                    old=match.group()[:120],
                    new=replacement(match)[:120],
                )
            )
        wf.text = pattern.sub(replacement, wf.text)
        wf.edits += len(matches)
        result.files += 1
        result.edits += len(matches)
    ws.note_outside(index, selected, lambda text: len(pattern.findall(text)))
    return result
