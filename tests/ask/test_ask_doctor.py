"""Doctor checks of the ask area."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_cli.core.doctor.checks.ask import reader_role, semantic_layer
from sophia_cli.core.settings import Settings, load_settings


def test_semantic_layer_check_counts_metrics(settings: Settings) -> None:
    outcome = semantic_layer(settings)
    assert outcome.status == "ok" and "metrics over 6 models" in outcome.detail


def test_semantic_layer_check_fails_on_a_broken_user_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "semantic.yaml"
    broken.write_text("metrics: [oops\n")
    monkeypatch.setenv("SOPHIA_SEMANTIC_FILE", str(broken))
    outcome = semantic_layer(load_settings())
    assert outcome.status == "fail" and "not valid YAML" in outcome.detail


def test_reader_role_check_says_queries_run_as_the_reader(settings: Settings) -> None:
    outcome = reader_role(settings)
    assert outcome.status == "ok" and "sophia_reader" in outcome.detail
