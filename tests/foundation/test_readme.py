"""The README documents every command, and its quick start is the one CI runs."""

from __future__ import annotations

from pathlib import Path

import typer

from sophia_cli.cli.main import app

REPO = Path(__file__).resolve().parents[2]


def _command_paths(command: object, prefix: str) -> list[str]:
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        if getattr(sub, "hidden", False):
            continue
        paths += _command_paths(sub, f"{prefix} {name}")
    return paths


def test_readme_mentions_every_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    missing = [path for path in _command_paths(root, "sophia") if f"`{path}" not in readme]
    assert missing == [], f"commands missing from README.md: {missing}"


def test_every_command_has_help() -> None:
    root = typer.main.get_command(app)

    def walk(command: object, path: str) -> list[str]:
        undocumented = [] if (getattr(command, "help", None) or "").strip() else [path]
        for name, sub in getattr(command, "commands", {}).items():
            undocumented += walk(sub, f"{path} {name}")
        return undocumented

    assert walk(root, "sophia") == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    blocks = readme.split("```sh\n")
    test_command = next(b.split("\n```")[0] for b in blocks[1:] if "pytest" in b.split("\n```")[0])
    assert test_command.strip() in ci
