"""`env scan --history`: secrets in the lines each commit added, the way gitleaks reads history.

`git log -p -U0 --all` streams every commit's added lines; each hunk is scanned as one text
(so a key block added in one go is found whole) and its line numbers are those of the file
in that commit. A secret is reported once per file, at the oldest commit that added it:
removing it later does not make it any less leaked.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sophia_cli.core.env.scan.baseline import Baseline
from sophia_cli.core.env.scan.files import scannable_name
from sophia_cli.core.env.scan.scanner import ScanReport, SecretFinding, file_findings, report_of
from sophia_cli.core.errors import InputError

_COMMIT = "\x1ecommit "
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def scan_history(root: Path, baseline: Baseline | None = None) -> ScanReport:
    """Scan the added lines of every commit reachable from any ref of the repository."""
    if not root.is_dir():
        raise InputError(f"{root} is not a folder", hint="Pass the repository's folder.")
    started = time.perf_counter()
    command = [
        "git", "-C", str(root), "-c", "core.quotepath=false", "log", "-p", "-U0",
        "--no-color", "--no-ext-diff", "--full-history", "--all", f"--format={_COMMIT}%H",
    ]  # fmt: skip
    errors = tempfile.TemporaryFile()  # a file, so a chatty stderr can never block the pipe
    try:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise InputError("git is not installed", hint="Install git to scan history.") from exc
    assert process.stdout is not None
    oldest: dict[tuple[str, str], SecretFinding] = {}
    versions = allowed = 0
    for commit, path, first_line, text in _hunks(process.stdout):
        versions += 1
        for finding, inline in file_findings(path, text):
            if inline:
                allowed += 1
                continue
            key = (finding.fingerprint, path)
            oldest[key] = finding.model_copy(
                update={"line": finding.line + first_line - 1, "commit": commit[:12]}
            )
    if process.wait() != 0:
        errors.seek(0)
        lines = errors.read().decode("utf-8", "replace").strip().splitlines()
        raise InputError(
            f"{root} has no git history to scan ({lines[-1] if lines else 'git failed'})",
            hint="Pass the folder of a git repository, or scan the tree without --history.",
        )
    errors.close()
    found = sorted(oldest.values(), key=lambda f: (f.file, f.line))
    return report_of(str(root), versions, found, allowed, baseline, started)


def _hunks(stream: Iterator[bytes]) -> Iterator[tuple[str, str, int, str]]:
    """(commit, path, first new line, added text) for each hunk of `git log -p -U0`."""
    commit = path = ""
    first, added = 0, list[str]()
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        starts_hunk = line.startswith(("@@", _COMMIT, "diff --git "))
        if starts_hunk and added:
            yield commit, path, first, "\n".join(added)
            added = []
        if line.startswith(_COMMIT):
            commit, path = line[len(_COMMIT) :], ""
        elif line.startswith("diff --git "):
            path = ""
        elif line.startswith("+++ "):
            path = _new_path(line[4:])
        elif line.startswith("@@"):
            hunk = _HUNK.match(line)
            first = int(hunk.group(1)) if hunk else 1
        elif line.startswith("+") and path:
            added.append(line[1:])
    if added:
        yield commit, path, first, "\n".join(added)


def _new_path(name: str) -> str:
    """The `b/…` side of a diff, or '' for a deletion or a file not worth scanning."""
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        name = name[1:-1]
    if name == "/dev/null" or not name.startswith("b/"):
        return ""
    path = name[2:]
    return path if scannable_name(Path(path)) else ""
