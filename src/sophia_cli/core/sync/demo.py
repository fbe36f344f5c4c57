"""`sophia demo`: the sandbox company synced into the warehouse, end to end.

Migrates the warehouse (DATABASE_URL, else the embedded PostgreSQL), runs the real sync
against a running sandbox (its fake Slack, Asana, HubSpot and Gong, started by the caller:
the sandbox is an HTTP face, so core only receives where it answers), and says what to try
next.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def sandbox_settings(settings: Settings, env: Mapping[str, str]) -> Settings:
    """These settings pointed at the sandbox's APIs and tokens, client limits off."""
    values: dict[str, Any] = settings.model_dump()
    for name, value in env.items():
        if name.lower() in type(settings).model_fields:
            values[name.lower()] = value
    values["sync_rate_limits"] = "off"
    return type(settings)(**values)


def run_demo(
    settings: Settings,
    sandbox_env: Mapping[str, str],
    sandbox_url: str,
    *,
    seed: int = 7,
    scale: float = 1.0,
    progress: Callable[[StreamResult], None] | None = None,
) -> DemoReport:
    """Migrate, then sync everything from the running sandbox that `sandbox_env` points at."""
    from sophia_cli.core.db.setup import upgrade_warehouse
    from sophia_cli.core.sync.run import run_sync

    applied, _ = upgrade_warehouse(settings)
    # --full: a warehouse synced before (another seed or scale) is re-read, not skipped.
    report = run_sync(sandbox_settings(settings, sandbox_env), None, full=True, progress=progress)
    return DemoReport(
        database=postgres.describe(postgres.resolve_url(settings)),
        migrations_applied=applied,
        sandbox_url=sandbox_url,
        seed=seed,
        scale=scale,
        sync=report,
        next_steps=list(NEXT_STEPS),
    )
