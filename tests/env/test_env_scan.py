"""`sophia env scan`: every token family found, look-alikes ignored, findings redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from env_helpers import Sophia, git
from scan_corpus import CORPUS, Case

from sophia_cli.core.env.scan.scanner import scan_text, scan_tree

POSITIVES = [c for c in CORPUS if c.positive]
LOOK_ALIKES = [c for c in CORPUS if not c.positive]


def _id(case: Case) -> str:
    return f"{case.family}:{case.name}"


def test_corpus_has_three_positives_and_three_look_alikes_per_family() -> None:
    families = {c.family for c in CORPUS}
    for family in families:
        assert sum(c.positive for c in CORPUS if c.family == family) >= 3, family
        assert sum(not c.positive for c in CORPUS if c.family == family) >= 3, family


@pytest.mark.parametrize("case", POSITIVES, ids=_id)
def test_real_secret_is_found_by_its_rule(case: Case) -> None:
    found = scan_text(case.text)
    assert [(rule, secret) for rule, _, secret in found if rule == case.family], found
    assert case.secret is not None
    # The finding is the planted secret (a key block's match also covers its header).
    first_line = case.secret.splitlines()[0]
    assert any(secret in case.secret or first_line in secret for _, _, secret in found)


@pytest.mark.parametrize("case", LOOK_ALIKES, ids=_id)
def test_look_alike_is_not_reported(case: Case) -> None:
    assert scan_text(case.text) == []


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The whole corpus as a git repo, one folder per case."""
    root = tmp_path / "tree"
    for index, case in enumerate(CORPUS):
        folder = root / f"{index:03d}-{case.family}"
        folder.mkdir(parents=True)
        (folder / case.name).write_text(case.text)
    git(root, "init", "-q")
    return root


def test_no_secret_appears_in_any_scan_output(sophia: Sophia, tree: Path) -> None:
    for fmt in ("text", "json", "sarif"):
        result = sophia("env", "scan", str(tree), "--format", fmt)
        assert result.exit_code == 1
        for case in POSITIVES:
            assert case.secret is not None
            for line in case.secret.splitlines():
                assert line not in result.stdout + result.stderr, f"{fmt} leaks {case.family}"


def test_json_findings_have_file_line_rule_and_redacted_excerpt(sophia: Sophia, tree: Path) -> None:
    report = json.loads(sophia("env", "scan", str(tree), "--json").stdout)
    assert report["files_scanned"] == len(CORPUS)
    assert len(report["findings"]) == len(POSITIVES)
    for item in report["findings"]:
        assert {"file", "line", "rule", "excerpt", "fingerprint"} <= set(item)
        assert "•••" in item["excerpt"]


def test_sarif_scan_output_has_fingerprints(sophia: Sophia, tree: Path) -> None:
    document = json.loads(sophia("env", "scan", str(tree), "--format", "sarif").stdout)
    assert document["version"] == "2.1.0"
    results = document["runs"][0]["results"]
    assert len(results) == len(POSITIVES)
    assert all(r["partialFingerprints"]["sophiaFingerprint/v1"] for r in results)


def test_fingerprint_is_stable_when_lines_move(tmp_path: Path) -> None:
    case = POSITIVES[0]
    path = tmp_path / "app.py"
    path.write_text(case.text)
    before = scan_tree(tmp_path).findings[0]
    path.write_text("# a new header\n\n" + case.text)
    after = scan_tree(tmp_path).findings[0]
    assert after.line == before.line + 2
    assert after.fingerprint == before.fingerprint


def test_baseline_suppresses_accepted_findings_only(
    sophia: Sophia, tree: Path, tmp_path: Path
) -> None:
    baseline = tmp_path / "baseline.json"
    assert sophia("env", "scan", str(tree), "--write-baseline", str(baseline)).exit_code == 0
    assert sophia("env", "scan", str(tree), "--baseline", str(baseline)).exit_code == 0
    (tree / "new.py").write_text(POSITIVES[1].text)
    result = sophia("env", "scan", str(tree), "--baseline", str(baseline), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [f["file"] for f in report["findings"]] == ["new.py"]
    assert report["baselined"] == len(POSITIVES)


def test_baseline_holds_no_secret(sophia: Sophia, tree: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    sophia("env", "scan", str(tree), "--write-baseline", str(baseline))
    text = baseline.read_text()
    for case in POSITIVES:
        assert case.secret is not None
        assert case.secret.splitlines()[0] not in text


def test_inline_allow_comment_suppresses_a_line(tmp_path: Path) -> None:
    secret_line = POSITIVES[0].text.rstrip("\n")
    (tmp_path / "a.py").write_text(f"{secret_line}  # sophia: allow-secret\n")
    report = scan_tree(tmp_path)
    assert report.findings == [] and report.allowed == 1


def test_gitignored_files_lock_files_and_binaries_are_skipped(tmp_path: Path) -> None:
    text = POSITIVES[0].text
    (tmp_path / ".gitignore").write_text("ignored.py\n")
    (tmp_path / "ignored.py").write_text(text)
    (tmp_path / "poetry.lock").write_text(text)
    (tmp_path / "blob.bin").write_bytes(b"\0\1\2" + text.encode())
    (tmp_path / "kept.py").write_text(text)
    git(tmp_path, "init", "-q")
    report = scan_tree(tmp_path)
    assert [f.file for f in report.findings] == ["kept.py"]


def test_bad_baseline_is_one_clear_error(sophia: Sophia, tree: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = sophia("env", "scan", str(tree), "--baseline", str(bad))
    assert result.exit_code == 2 and "baseline" in result.stderr
    missing = sophia("env", "scan", str(tree), "--baseline", str(tmp_path / "none.json"))
    assert missing.exit_code == 2


def test_missing_scan_path_is_an_input_error(sophia: Sophia, tmp_path: Path) -> None:
    result = sophia("env", "scan", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


@pytest.mark.parametrize("folder", ["src", "tests/env"])
def test_this_repository_has_no_hard_coded_secrets(folder: str) -> None:
    repo = Path(__file__).resolve().parents[2]
    report = scan_tree(repo / folder)
    assert report.findings == [], [(f.file, f.line, f.rule) for f in report.findings]
    if folder == "tests/env":
        assert report.allowed >= 10  # the fixtures' planted secrets, each allowed inline
