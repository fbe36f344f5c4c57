"""File hygiene: permissions of .env.master and git status of files that hold real values."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sophia_cli.core.env.findings import Finding, error, warning
from sophia_cli.core.env.layers import MASTER_FILE

# Files that hold real values and therefore must never reach the repository.
PRIVATE_FILES = (".env.development", ".env.production", MASTER_FILE)


def check_permissions(directory: Path) -> list[Finding]:
    """`.env.master` must be mode 600 and owned by the current user."""
    path = directory / MASTER_FILE
    if not path.is_file():
        return []
    stat = path.stat()
    findings = []
    if stat.st_mode & 0o077:
        findings.append(
            error(
                "file-permissions",
                f"{MASTER_FILE} is mode {stat.st_mode & 0o777:o}; it must be 600",
                file=MASTER_FILE,
                hint=f"chmod 600 {path}",
            )
        )
    if hasattr(os, "getuid") and stat.st_uid != os.getuid():
        findings.append(
            error(
                "file-permissions",
                f"{MASTER_FILE} is owned by uid {stat.st_uid}, not by you (uid {os.getuid()})",
                file=MASTER_FILE,
                hint=f"chown $(id -u) {path}",
            )
        )
    return findings


def check_git(directory: Path) -> list[Finding]:
    """Private env files must be git-ignored, and never tracked."""
    if not _in_git_repo(directory):
        return []
    findings = []
    for name in PRIVATE_FILES:
        if _git(directory, "ls-files", "--error-unmatch", "--", name).returncode == 0:
            findings.append(
                error(
                    "tracked-by-git",
                    f"{name} is committed to git; its values are in the history",
                    file=name,
                    hint=f"git rm --cached {name}, add it to .gitignore, and rotate its secrets",
                )
            )
        elif (directory / name).exists() and _git(
            directory, "check-ignore", "-q", "--", name
        ).returncode != 0:
            findings.append(
                warning(
                    "not-gitignored",
                    f"{name} is not ignored by git",
                    file=name,
                    hint=f"echo {name} >> .gitignore",
                )
            )
    return findings


def _in_git_repo(directory: Path) -> bool:
    try:
        result = _git(directory, "rev-parse", "--is-inside-work-tree")
    except OSError:
        return False  # git is not installed: nothing to check against
    return result.returncode == 0 and result.stdout.strip() == "true"


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
