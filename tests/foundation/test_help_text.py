"""Help reads as prose: no type markers on flags, sentences not broken where the source was."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from sophia_cli.cli.help import reflow
from sophia_cli.cli.main import app


def _paths(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in getattr(command, "commands", {}).items():
        found += _paths(sub, (*path, name))
    return found


COMMANDS = _paths(typer.main.get_command(app))


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "sophia")
def test_no_help_shows_a_bool_marker(sophia, path: tuple[str, ...]) -> None:
    result = sophia(*path, "--help")
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    assert "<list[" not in result.stdout


def test_docstring_lines_are_joined_into_sentences() -> None:
    from sophia_cli.cli.help import tidy

    check = tidy(typer.main.get_command(app)).commands["env"].commands["check"]
    paragraph = check.help.split("\n\n")[1]
    assert "\n" not in paragraph  # rewrapped at the terminal's width, not the source's
    assert ".env.master, the process environment; unset secrets come from the keyring" in paragraph


def test_command_lists_show_whole_first_sentences(sophia) -> None:
    text = " ".join(sophia("--help").stdout.split())
    assert (
        "Set up the warehouse and sync the sandbox's Slack, Asana, HubSpot and Gong into it."
        in text
    )
    assert "..." not in text.replace("[ARGS]...", "")


def test_reflow_keeps_paragraphs_and_indented_blocks() -> None:
    text = "One sentence\nthat goes on.\n\nExample:\n  sophia db init\n  sophia db status"
    assert reflow(text) == (
        "One sentence that goes on.\n\nExample:\n  sophia db init\n  sophia db status"
    )
