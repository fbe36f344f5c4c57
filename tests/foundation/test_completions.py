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


def _complete(words: str) -> set[str]:
    env = {
        **os.environ,
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
        "_SOPHIA_COMPLETE": "complete_bash",
    }
    result = subprocess.run(
        [sys.executable, "-m", "sophia_cli"], env=env, capture_output=True, text=True, check=False
    )
    return set(result.stdout.split())


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("sophia sync h", {"hubspot"}),
        ("sophia search renewal --source g", {"gong"}),
        ("sophia migrate run p", {"ports"}),
        ("sophia doctor --category st", {"stores"}),
    ],
)
def test_completion_offers_sources_presets_and_categories(words: str, expected: set[str]) -> None:
    assert _complete(words) == expected
