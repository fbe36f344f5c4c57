"""`replace_port {from, to}`: edit a port only where the matcher is sure it is a port."""

from __future__ import annotations

from sophia_cli.core.migrate.models import PlanWarning, StepReport
from sophia_cli.core.migrate.plan import ReplacePortStep
from sophia_cli.core.migrate.ports import LineIndex, find_port_uses, replace_ports
from sophia_cli.core.migrate.workspace import WorkFile, Workspace


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
            _warn_if_taken(wf, step.to_port, index, ws)
            wf.text, wf.edits = new_text, wf.edits + edits
            result.files += 1
            result.edits += edits

    def uses(text: str) -> int:
        return sum(1 for _ in find_port_uses(text, step.from_port)) if needle in text else 0

    ws.note_outside(index, globs, uses)
    return result


def _warn_if_taken(wf: WorkFile, port: int, index: int, ws: Workspace) -> None:
    """Warn when the file already uses the target port: two services or keys would share it."""
    taken = [s for s in find_port_uses(wf.text, port) if s.verdict == "port"]
    if not taken:
        return
    lines = LineIndex(wf.text)
    first = taken[0].start
    start, end = lines.bounds(first)
    ws.warnings.append(
        PlanWarning(
            step=index,
            path=wf.path,
            line=lines.number(first),
            message=f"port {port} is already used in this file "
            f"({wf.text[start:end].strip()[:80]!r}); after the change two places claim it",
        )
    )
