"""The README's offline examples print exactly what the README shows.

The block after `<!-- offline-examples -->` is a console session: each `$ ` line is run with
bash in an empty folder (stdout and stderr together, as a terminal shows them), and its
output must equal the lines that follow it in the README.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MARK = "<!-- offline-examples -->"


def _examples() -> list[tuple[str, str]]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split(MARK, 1)[1].split("```console\n", 1)[1].split("\n```", 1)[0]
    examples: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            examples.append((line[2:], []))
        else:
            examples[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in examples]


EXAMPLES = _examples()


def test_the_readme_has_offline_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_an_offline_example_prints_what_the_readme_shows(
    command: str, shown: str, tmp_path: Path
) -> None:
    bin_dir = str(Path(sys.executable).parent)  # the `sophia` script beside this Python
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    finished = subprocess.run(
        ["bash", "-c", f"{command} 2>&1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.stdout.rstrip("\n") == shown
