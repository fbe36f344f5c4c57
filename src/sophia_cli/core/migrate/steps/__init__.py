"""One module per step kind; `run_step` dispatches a typed step to its function."""

from __future__ import annotations

from sophia_cli.core.migrate.models import StepReport
from sophia_cli.core.migrate.plan import (
    DeleteStep,
    FlagStep,
    MoveStep,
    RenameEnvStep,
    ReplacePortStep,
    ReplaceTextStep,
    Step,
)
from sophia_cli.core.migrate.steps import (
    delete,
    flag,
    move,
    rename_env,
    replace_port,
    replace_text,
)
from sophia_cli.core.migrate.workspace import Workspace


def run_step(step: Step, index: int, globs: tuple[str, ...], ws: Workspace) -> StepReport:
    """Carry out one step on the in-memory workspace."""
    if isinstance(step, ReplacePortStep):
        return replace_port.run(step, index, globs, ws)
    if isinstance(step, MoveStep):
        return move.run(step, index, globs, ws)
    if isinstance(step, DeleteStep):
        return delete.run(step, index, globs, ws)
    if isinstance(step, RenameEnvStep):
        return rename_env.run(step, index, globs, ws)
    if isinstance(step, ReplaceTextStep):
        return replace_text.run(step, index, globs, ws)
    if isinstance(step, FlagStep):
        return flag.run(step, index, globs, ws)
    raise TypeError(f"unknown step {step!r}")
