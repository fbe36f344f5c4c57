"""The corpus: every true port use changed, no trap touched, result equal to the expected tree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from migrate_helpers import CORPUS, snapshot, tree_bytes

from sophia_cli.core.migrate.run import apply_preview, compute_plan, ports_plan, rollback

_TOKEN = re.compile(rb"(?<![0-9A-Za-z_])8003(?![0-9A-Za-z_])")


def test_the_corpus_has_at_least_60_true_ports_and_60_traps() -> None:
    before, after = tree_bytes(CORPUS / "input"), tree_bytes(CORPUS / "expected")
    edited = sum(data.count(b"8003") for data in before.values()) - sum(
        data.count(b"8003") for data in after.values()
    )
    traps = sum(data.count(b"8003") for rel, data in after.items() if rel != "deploy/Makefile")
    assert edited >= 60
    assert traps >= 60


def test_applying_the_ports_plan_gives_the_expected_tree_byte_for_byte(corpus_tree: Path) -> None:
    preview = compute_plan(ports_plan(8003, 8000), corpus_tree)
    apply_preview(preview)
    assert tree_bytes(corpus_tree) == tree_bytes(CORPUS / "expected")


def test_the_preview_counts_every_edit_of_the_expected_tree(corpus_tree: Path) -> None:
    preview = compute_plan(ports_plan(8003, 8000), corpus_tree)
    before, after = tree_bytes(CORPUS / "input"), tree_bytes(CORPUS / "expected")
    expected_edits = sum(before[r].count(b"8003") - after[r].count(b"8003") for r in before)
    assert preview.edits == expected_edits
    assert {c.path for c in preview.changes} == {r for r in before if before[r] != after[r]}


def test_no_spot_needing_review_is_edited(corpus_tree: Path) -> None:
    preview = compute_plan(ports_plan(8003, 8000), corpus_tree)
    assert preview.review
    expected = tree_bytes(CORPUS / "expected")
    for spot in preview.review:
        line = expected[spot.path].decode().splitlines()[spot.line - 1]
        assert line[spot.column - 1 : spot.column + 3] == "8003"


def test_files_outside_the_globs_are_not_touched(corpus_tree: Path) -> None:
    preview = compute_plan(ports_plan(8003, 8000), corpus_tree)
    assert "deploy/Makefile" not in {c.path for c in preview.changes}


def test_the_dry_run_never_writes(corpus_tree: Path, sophia) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(corpus_tree)
    result = sophia("migrate", "ports", str(corpus_tree), "--from", "8003", "--to", "8000")
    assert result.exit_code == 10
    assert snapshot(corpus_tree) == before
    assert not (corpus_tree / ".sophia").exists()


def test_rollback_after_apply_restores_the_input_byte_for_byte(corpus_tree: Path) -> None:
    apply_preview(compute_plan(ports_plan(8003, 8000), corpus_tree))
    rollback(corpus_tree)
    assert tree_bytes(corpus_tree) == tree_bytes(CORPUS / "input")


def test_the_json_preview_lists_changes_review_spots_and_no_file_contents(
    corpus_tree: Path,
    sophia,  # type: ignore[no-untyped-def]
) -> None:
    result = sophia("migrate", "ports", str(corpus_tree), "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 10
    assert data["plan"] == "ports-8003-to-8000"
    assert all("content" not in change for change in data["changes"])
    assert sum(c["edits"] for c in data["changes"]) >= 60
    assert {"path", "line", "column", "text", "reason", "step"} <= set(data["review"][0])


def test_after_apply_the_dry_run_exits_zero(corpus_tree: Path, sophia) -> None:  # type: ignore[no-untyped-def]
    assert sophia("migrate", "ports", str(corpus_tree), "--apply", "--yes").exit_code == 0
    again = sophia("migrate", "ports", str(corpus_tree), "--no-diff")
    assert again.exit_code == 0
