"""Sandbox fixtures: a shared read-only sandbox, fresh ones for tests that change data, and
httpx clients that authenticate like the real API clients do."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from sophia_cli.sandbox.api.app import SandboxHandle, start_sandbox

TODAY = date(2026, 3, 31)


def clients_for(sb: SandboxHandle) -> dict[str, httpx.Client]:
    """One client per API, with the base URL and the credentials the sandbox exported."""
    env = sb.env
    basic = base64.b64encode(
        f"{env['GONG_ACCESS_KEY']}:{env['GONG_ACCESS_KEY_SECRET']}".encode()
    ).decode()
    return {
        "slack": httpx.Client(
            base_url=env["SLACK_API_BASE"],
            headers={"Authorization": f"Bearer {env['SLACK_BOT_TOKEN']}"},
        ),
        "asana": httpx.Client(
            base_url=env["ASANA_API_BASE"],
            headers={"Authorization": f"Bearer {env['ASANA_PAT_TOKEN']}"},
        ),
        "hubspot": httpx.Client(
            base_url=env["HUBSPOT_API_BASE"],
            headers={"Authorization": f"Bearer {env['HUBSPOT_API_KEY']}"},
        ),
        "gong": httpx.Client(
            base_url=env["GONG_API_BASE"], headers={"Authorization": f"Basic {basic}"}
        ),
        "control": httpx.Client(base_url=sb.base_url + "/_sandbox"),
    }


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    """A small sandbox shared by a module's read-only tests (do not mutate it)."""
    with start_sandbox(seed=7, scale=0.1, today=TODAY) as sb:
        yield sb


@pytest.fixture(scope="module")
def api(sandbox: SandboxHandle) -> Iterator[dict[str, httpx.Client]]:
    clients = clients_for(sandbox)
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture
def fresh() -> Iterator[Callable[..., tuple[SandboxHandle, dict[str, httpx.Client]]]]:
    """Start private sandboxes (with any start_sandbox options) that a test may change."""
    started: list[tuple[SandboxHandle, dict[str, httpx.Client]]] = []

    def make(**options: Any) -> tuple[SandboxHandle, dict[str, httpx.Client]]:
        options = {"seed": 7, "scale": 0.1, "today": TODAY, **options}
        sb = start_sandbox(**options)
        started.append((sb, clients_for(sb)))
        return started[-1]

    yield make
    for sb, clients in started:
        for client in clients.values():
            client.close()
        sb.stop()
