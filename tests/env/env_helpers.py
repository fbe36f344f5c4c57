"""Helpers shared by the env tests (a unique module name, unlike conftest)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

KEYRING_PASSWORD = "correct horse battery staple for tests"
WriteEnv = Callable[[str, str], Path]


def git(directory: Path, *args: str) -> None:
    """Run git in `directory` (quietly, with a fixed identity)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True, env=env)


# The `sophia` fixture of tests/conftest.py: run the CLI in-process, get a Result.
Sophia = Callable[..., Any]
