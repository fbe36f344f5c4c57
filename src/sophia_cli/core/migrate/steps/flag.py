"""`flag {pattern, reason}`: list every match for a person to review; nothing is edited."""

from __future__ import annotations

import re

from sophia_cli.core.migrate.models import StepReport
from sophia_cli.core.migrate.plan import FlagStep
from sophia_cli.core.migrate.workspace import Workspace


def run(step: FlagStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Add a review spot at each match in the selected files."""
    result = StepReport(index=index, kind=step.kind, summary=f"flag {step.pattern!r}")
    flags = re.IGNORECASE if step.ignore_case else 0
    pattern = re.compile(step.pattern if step.regex else re.escape(step.pattern), flags)
    for wf in ws.live(step.globs or globs):
        for match in pattern.finditer(wf.text):
            ws.add_spot(wf, match.start(), match.end(), step.reason, index)
    return result
