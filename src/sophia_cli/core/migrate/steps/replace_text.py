"""`replace_text {pattern, replacement, globs}`: a literal or regex rewrite for what remains."""

from __future__ import annotations

import re

from sophia_cli.core.migrate.models import StepReport
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

    for wf in ws.live(step.globs or globs):
        new_text, edits = pattern.subn(replacement, wf.text)
        if edits and new_text != wf.text:
            wf.text, wf.edits = new_text, wf.edits + edits
            result.files += 1
            result.edits += edits
    return result
