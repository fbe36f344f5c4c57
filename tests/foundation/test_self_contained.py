"""The repository is self-contained: tests and benchmarks read nothing outside it.

A fresh clone in a folder with nothing beside it must pass its own tests, so no file under
tests/ or bench/ may reach above the repository root (`../shared`, `parents[3]` from a
two-deep file, `.parent` chains that climb out).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_CHECKED = ("tests", "bench")
_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".json", ".yaml", ".yml", ".md", ".txt"}
_PARENTS = re.compile(r"\.parents\[(\d+)\]")
_PARENT_CHAIN = re.compile(r"(?:\.parent\b)+")
_OUTSIDE = re.compile(r"\.\./shared|\bshared/api-specs\b|[\"']/work/")


def _files() -> list[Path]:
    return sorted(
        path
        for folder in _CHECKED
        for path in (REPO / folder).rglob("*")
        if path.is_file()
        and path.suffix in _SUFFIXES
        and "__pycache__" not in path.parts
        and path != Path(__file__).resolve()  # this file names the patterns it looks for
    )


def escapes(relative: Path, text: str) -> list[str]:
    """Where `text`, the content of the repository file `relative`, reaches out of the repo."""
    depth = len(relative.parts)  # parents[depth - 1] is the repository root
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{relative}:{number}"
        found += [f"{where}: {m.group(0)}" for m in _OUTSIDE.finditer(line)]
        found += [
            f"{where}: {m.group(0)}" for m in _PARENTS.finditer(line) if int(m.group(1)) >= depth
        ]
        found += [
            f"{where}: {m.group(0)}"
            for m in _PARENT_CHAIN.finditer(line)
            if "__file__" in line and m.group(0).count(".parent") > depth
        ]
    return found


def test_nothing_in_tests_or_bench_reads_outside_the_repository() -> None:
    problems = [p for path in _files() for p in escapes(path.relative_to(REPO), _read(path))]
    assert problems == []


def test_the_check_catches_a_path_out_of_the_repository() -> None:
    relative = Path("tests/sandbox/test_x.py")
    assert escapes(relative, 'SPEC = Path(__file__).resolve().parents[3] / "x"')
    assert escapes(relative, 'SPEC = Path(__file__).parent.parent.parent.parent / "x"')
    assert escapes(relative, 'spec = "../shared/api-specs/slack/openapi-subset.json"')
    assert not escapes(relative, 'REPO = Path(__file__).resolve().parents[2] / "docs"')
    assert not escapes(relative, "REPO = Path(__file__).parent.parent.parent")


def test_the_files_tests_check_against_live_in_docs() -> None:
    assert (REPO / "docs" / "warehouse-contract.md").is_file()
    assert (REPO / "docs" / "api-facts" / "slack-web-api.schema.json").is_file()


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")
