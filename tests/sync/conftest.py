"""Sync fixtures: the sandbox over real HTTP and settings pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sync_helpers import SMALL

from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.sync.models import SyncReport
from sophia_cli.core.sync.run import run_sync
from sophia_cli.sandbox.api.app import SandboxHandle, start_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A small sandbox company, rate limits off, on a free port."""
    with start_sandbox(seed=7, scale=SMALL, rate_limits="off") as handle:
        yield handle


@pytest.fixture
def point_at(
    stores_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Settings]:
    """Point the environment (and so `sophia sync`) at a sandbox; returns the settings."""

    def point(handle: SandboxHandle, **extra: str) -> Settings:
        values = {
            **handle.env,
            "SYNC_RATE_LIMITS": "off",
            "SYNC_TEXT_INDEX": "false",
            "ASANA_SWEEP_HOURS": "0",
            "SLACK_SWEEP_HOURS": "0",
            **extra,
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return load_settings()

    return point


@pytest.fixture
def synced(point_at: Callable[..., Settings]) -> Callable[..., SyncReport]:
    """Run the real sync (in-process) against a sandbox with these settings."""

    def sync(
        handle: SandboxHandle,
        sources: list[str] | None = None,
        env: dict[str, str] | None = None,
        **options: Any,
    ) -> SyncReport:
        return run_sync(point_at(handle, **(env or {})), sources, **options)

    return sync
