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
