"""`replace_port {from, to}`: edit a port only where the matcher is sure it is a port."""

from __future__ import annotations

from sophia_cli.core.migrate.models import StepReport
from sophia_cli.core.migrate.plan import ReplacePortStep
from sophia_cli.core.migrate.ports import replace_ports
from sophia_cli.core.migrate.workspace import Workspace


def run(step: ReplacePortStep, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Replace step.from_port by step.to_port in every port context of the selected files."""
    result = StepReport(
        index=index, kind=step.kind, summary=f"port {step.from_port} -> {step.to_port}"
    )
    needle = str(step.from_port)
    for wf in ws.live(globs):
        if needle not in wf.text:
            continue
        new_text, edits, doubtful = replace_ports(wf.text, step.from_port, step.to_port)
        for spot in doubtful:
            ws.add_spot(wf, spot.start, spot.end, spot.reason, index)
        if edits:
            wf.text, wf.edits = new_text, wf.edits + edits
            result.files += 1
            result.edits += edits
    return result
