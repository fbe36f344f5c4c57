"""Shapes the browser tests share: the demo, the server over it, one visited page."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sophia_cli.core.auth.tokens import Scope, issue_token
from sophia_cli.core.settings import Settings


@dataclass
class Demo:
    settings: Settings
    sandbox: Any  # the running sandbox (sophia_cli.sandbox.api.app.Sandbox)
    url: str


@dataclass
class PageServer:
    """A `sophia serve` process on a free loopback port."""

    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path

    def token(self, *scopes: str, sub: str = "analyst", ttl: int = 900) -> str:
        return issue_token(self.settings, sub, [Scope(s) for s in scopes], ttl)

    def link(self, token: str, path: str = "/") -> str:
        """The sign-in link `sophia serve` prints: the token rides in the fragment."""
        return f"{self.url}{path}#token={token}"


@dataclass
class Visit:
    """One browser page, with every request it made and every dialog it opened."""

    page: Any
    requests: list[str]
    dialogs: list[str]
    errors: list[str]
