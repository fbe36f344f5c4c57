"""Shell completion scripts in `completions/` are what the app generates."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sophia_cli.cli.completion import SHELLS, render_completion

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_completion_script_is_current(shell: str) -> None:
    committed = (COMPLETIONS / SHELLS[shell]).read_text(encoding="utf-8")
    assert committed == render_completion(shell), (
        f"completions/{SHELLS[shell]} is stale: "
        "run `python -m sophia_cli.cli.completion completions/`"
    )


def test_bash_completion_offers_the_command_groups() -> None:
    env = {
        **os.environ,
        "COMP_WORDS": "sophia d",
        "COMP_CWORD": "1",
        "_SOPHIA_COMPLETE": "complete_bash",
    }
    result = subprocess.run(
        [sys.executable, "-m", "sophia_cli"], env=env, capture_output=True, text=True, check=False
    )
    assert {"db", "doctor"} <= set(result.stdout.split())
