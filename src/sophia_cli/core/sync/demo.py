"""`sophia demo`: the sandbox company synced into the warehouse, end to end.

Migrates the warehouse (DATABASE_URL, else the embedded PostgreSQL), starts the sandbox's
fake Slack, Asana, HubSpot and Gong in-process with rate limits off, runs the real sync
against it, and says what to try next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.models import StreamResult, SyncReport
from sophia_cli.store import postgres

NEXT_STEPS = (
    'sophia ask "won revenue by owner last quarter"',
    'sophia ask "open deals by stage"',
    'sophia search "pricing objection"',
    "sophia sync status",
    "sophia sandbox serve   # keep the fake APIs running and sync against them yourself",
)


class DemoReport(BaseModel):
    """Where the demo data went and what the sync did."""

    database: str
    migrations_applied: list[str]
    sandbox_url: str
    seed: int
    scale: float
    sync: SyncReport
    next_steps: list[str]


def sandbox_settings(settings: Settings, env: dict[str, str]) -> Settings:
    """These settings pointed at the sandbox's APIs and tokens, client limits off."""
    values: dict[str, Any] = settings.model_dump()
    for name, value in env.items():
        if name.lower() in type(settings).model_fields:
            values[name.lower()] = value
    values["sync_rate_limits"] = "off"
    return type(settings)(**values)


def run_demo(
    settings: Settings,
    *,
    seed: int = 7,
    scale: float = 1.0,
    progress: Callable[[StreamResult], None] | None = None,
) -> DemoReport:
    """Migrate, start the sandbox, sync everything from it, stop the sandbox."""
    from sophia_cli.core.db.setup import upgrade_warehouse
    from sophia_cli.core.sandbox.server import start_sandbox
    from sophia_cli.core.sync.run import run_sync

    applied, _ = upgrade_warehouse(settings)
    with start_sandbox(seed=seed, scale=scale, rate_limits="off") as sandbox:
        # --full: a warehouse synced before (another seed or scale) is re-read, not skipped.
        report = run_sync(
            sandbox_settings(settings, sandbox.env), None, full=True, progress=progress
        )
        url = sandbox.base_url
    return DemoReport(
        database=postgres.describe(postgres.resolve_url(settings)),
        migrations_applied=applied,
        sandbox_url=url,
        seed=seed,
        scale=scale,
        sync=report,
        next_steps=list(NEXT_STEPS),
    )
