"""Shell completion scripts for `completions/`, generated from the app.

The scripts ask `sophia` itself for candidates at completion time (Click's protocol), so
they stay right as commands are added; regenerate them only when Typer changes the format:
`python -m sophia_cli.cli.completion completions/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

SHELLS = {"bash": "sophia.bash", "zsh": "_sophia", "fish": "sophia.fish"}


# Candidates for arguments, computed only when the shell asks (imports stay out of --help).
def complete_sources(incomplete: str) -> list[str]:
    from sophia_cli.core.sync.sources import NAMES

    return [name for name in NAMES if name.startswith(incomplete)]


def complete_presets(incomplete: str) -> list[str]:
    from sophia_cli.core.migrate.plan import preset_names

    return [name for name in preset_names() if name.startswith(incomplete)]


def complete_categories(incomplete: str) -> list[str]:
    from sophia_cli.core.doctor.registry import categories

    return [name for name in categories() if name.startswith(incomplete)]


def render_completion(shell: str) -> str:
    """The completion script for one shell."""
    from typer._completion_shared import get_completion_script

    script = get_completion_script(prog_name="sophia", complete_var="_SOPHIA_COMPLETE", shell=shell)
    return script.rstrip("\n") + "\n"


def write_completions(folder: Path) -> list[Path]:
    """Write every shell's script into `folder`; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for shell, filename in SHELLS.items():
        path = folder / filename
        path.write_text(render_completion(shell), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_completions(
        Path(sys.argv[1] if len(sys.argv) > 1 else "completions")
    ):
        print(written_path)
