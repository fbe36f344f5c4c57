"""Baselines that survive renames, SARIF URIs, and `env scan --history` over git history."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from env_helpers import Sophia, git

from sophia_cli.core.env.sarif import artifact_uri
from sophia_cli.core.env.scan.baseline import read_baseline
from sophia_cli.core.env.scan.history import scan_history
from sophia_cli.core.env.scan.scanner import baseline_of, scan_tree

# Generated at run time in Slack's bot-token format: no literal credential in the repository.
_TOKEN = "xoxb-" + "4821937465-" + "5029384756123-" + hashlib.md5(b"t").hexdigest()[:24]
_OTHER = "xoxb-" + "7390218465-" + "1928374650192-" + hashlib.md5(b"o").hexdigest()[:24]


def git_output(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _commit(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def test_a_renamed_file_keeps_its_baselined_findings(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(f'TOKEN = "{_TOKEN}"\n')
    baseline = baseline_of(scan_tree(tmp_path))
    (tmp_path / "settings.py").rename(tmp_path / "config.py")
    report = scan_tree(tmp_path, baseline)
    assert report.findings == [] and report.baselined == 1


def test_a_baselined_secret_pasted_into_a_new_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text(f'TOKEN = "{_TOKEN}"\n')
    baseline = baseline_of(scan_tree(tmp_path))
    (tmp_path / "copy.py").write_text(f'AGAIN = "{_TOKEN}"\n')
    report = scan_tree(tmp_path, baseline)
    assert [f.file for f in report.findings] == ["copy.py"] and report.baselined == 1


def test_an_old_baseline_is_refused_with_what_to_do(tmp_path: Path, sophia: Sophia) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"version": 1, "entries": []}))
    result = sophia("env", "scan", str(tmp_path), "--baseline", str(old))
    assert result.exit_code == 2 and "--write-baseline" in result.stderr


def test_sarif_uris_are_percent_encoded(tmp_path: Path, sophia: Sophia) -> None:
    folder = tmp_path / "my app#2"
    folder.mkdir()
    (folder / "réglages 100%.py").write_text(f'TOKEN = "{_TOKEN}"\n')
    document = json.loads(sophia("env", "scan", str(tmp_path), "--format", "sarif").stdout)
    location = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "my%20app%232/r%C3%A9glages%20100%25.py"
    assert artifact_uri("a b/c:d.py") == "a%20b/c%3Ad.py"


def test_history_finds_a_secret_removed_in_a_later_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "app.py").write_text("import os\n")
    _commit(tmp_path, "start")
    (tmp_path / "app.py").write_text(f'import os\n\nTOKEN = "{_TOKEN}"\n')
    _commit(tmp_path, "oops")
    (tmp_path / "app.py").write_text('import os\n\nTOKEN = os.environ["SLACK_BOT_TOKEN"]\n')
    _commit(tmp_path, "fix")
    assert scan_tree(tmp_path).findings == []
    report = scan_history(tmp_path)
    assert [(f.file, f.line, f.rule) for f in report.findings] == [("app.py", 3, "slack-token")]
    oops = git_output(tmp_path, "rev-list", "-n1", "HEAD~1")
    assert oops.startswith(report.findings[0].commit or "-")


def test_history_reports_a_secret_once_at_the_oldest_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.py").write_text(f'T = "{_TOKEN}"\n')
    _commit(tmp_path, "one")
    (tmp_path / "a.py").write_text(f'# moved down\nT = "{_TOKEN}"\n')
    _commit(tmp_path, "two")
    report = scan_history(tmp_path)
    assert len(report.findings) == 1
    assert (
        report.findings[0].commit
        == git_output(tmp_path, "rev-list", "--max-parents=0", "HEAD")[:12]
    )


def test_history_finds_a_key_block_added_in_one_commit_and_on_other_branches(
    tmp_path: Path,
) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "README.md").write_text("hi\n")
    _commit(tmp_path, "start")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    (tmp_path / "b.py").write_text(f'X = "{_OTHER}"\n')
    _commit(tmp_path, "feature work")
    git(tmp_path, "checkout", "-q", "main")
    body = hashlib.sha512(b"k").hexdigest() + hashlib.sha512(b"l").hexdigest()
    (tmp_path / "id_rsa").write_text(
        f"-----BEGIN RSA PRIVATE KEY-----\n{body[:64]}\n{body[64:128]}\n"
        "-----END RSA PRIVATE KEY-----\n"
    )
    _commit(tmp_path, "key")
    found = {(f.file, f.rule) for f in scan_history(tmp_path).findings}
    assert found == {("b.py", "slack-token"), ("id_rsa", "private-key")}


def test_history_outside_a_repository_is_one_clear_error(tmp_path: Path, sophia: Sophia) -> None:
    result = sophia("env", "scan", str(tmp_path), "--history")
    assert result.exit_code == 2 and "git history" in result.stderr


def test_history_output_names_the_commit_and_hides_the_secret(
    tmp_path: Path, sophia: Sophia
) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "app.py").write_text(f'TOKEN = "{_TOKEN}"\n')
    _commit(tmp_path, "oops")
    result = sophia("env", "scan", str(tmp_path), "--history")
    assert result.exit_code == 1 and "(commit " in result.stdout
    assert _TOKEN[5:] not in result.stdout + result.stderr
    baseline = tmp_path / "baseline.json"
    sophia("env", "scan", str(tmp_path), "--write-baseline", str(baseline))
    accepted = sophia("env", "scan", str(tmp_path), "--history", "--baseline", str(baseline))
    assert accepted.exit_code == 0
    assert read_baseline(baseline).entries[0].file == "app.py"
