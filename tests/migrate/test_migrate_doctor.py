"""The doctor check for legacy ports and OpenRouter references left in the current tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sophia_cli.core.doctor.checks.migrate import legacy_references
from sophia_cli.core.doctor.models import Status
from sophia_cli.core.settings import load_settings

Tree = Callable[[dict[str, bytes | str]], Path]


def test_warns_when_the_legacy_port_or_openrouter_is_still_used(
    make_tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(
        {"a.env": "API_URL=http://localhost:8003\n", "b.py": "k = 'OPENROUTER_API_KEY'\n"}
    )
    monkeypatch.chdir(root)
    outcome = legacy_references(load_settings([]))
    assert outcome.status == Status.WARN
    assert (
        "1 use(s) of legacy port 8003 and 1 OpenRouter reference(s) in 2 file(s)" in outcome.detail
    )


def test_is_ok_when_only_traps_remain(make_tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree({"a.env": "API_URL=http://localhost:8000\nVERSION=1.8003\nC=#8003ff\n"})
    monkeypatch.chdir(root)
    assert legacy_references(load_settings([])).status == Status.OK


def test_the_scan_stops_at_its_time_budget_and_says_so(make_tree: Tree) -> None:
    from sophia_cli.core.migrate.scan import legacy_references as scan

    root = make_tree({f"f{n}.env": "API_URL=http://localhost:8003\n" for n in range(20)})
    assert scan(root, 8003).files_scanned == 20
    stopped = scan(root, 8003, max_seconds=0.0)
    assert stopped.truncated and stopped.files_scanned == 0


def test_the_scan_stops_at_its_file_limit(make_tree: Tree) -> None:
    from sophia_cli.core.migrate.scan import legacy_references as scan

    root = make_tree({f"f{n}.env": "API_URL=http://localhost:8003\n" for n in range(20)})
    report = scan(root, 8003, max_files=5)
    assert report.truncated and report.files_scanned == 5 and report.port_uses == 5


def test_doctor_says_when_its_scan_stopped_early(
    make_tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sophia_cli.core.doctor.checks import migrate

    monkeypatch.chdir(make_tree({f"f{n}.env": "PORT=8000\n" for n in range(3)}))
    monkeypatch.setattr(migrate, "MAX_FILES", 2)
    outcome = legacy_references(load_settings([]))
    assert outcome.status == Status.OK
    assert "in 2 files (the scan stops at 2 files or 2 s; the rest was not read)" in outcome.detail
