"""Sync: each source's credentials (present and accepted) and how fresh its data is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sophia_cli.core.doctor.embedded import postgres_stopped
from sophia_cli.core.doctor.models import Outcome, fail, ok, skip, warn
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.sources import NAMES as SOURCES
from sophia_cli.store import postgres

_TOKEN_TIMEOUT_S = 5.0


async def _probe(settings: Settings, source: str) -> str:
    from sophia_cli.core.sync.connectors import registry

    connector = registry.get(source)
    quick = settings.model_copy(
        update={"sync_http_timeout_s": _TOKEN_TIMEOUT_S, "sync_max_attempts": 1}
    )
    client = connector.client(quick)
    try:
        return await connector.check(client)
    finally:
        await client.aclose()


def token_check(source: str, settings: Settings) -> Outcome:
    """The source's token is set (skip in development when not) and the API accepts it."""
    from sophia_cli.core.sync.connectors import registry

    connector = registry.get(source)
    missing = [v for v in connector.token_variables if settings.secret_value(v.lower()) is None]
    if missing:
        message = f"{' and '.join(missing)} not set"
        return fail(message) if settings.is_production else skip(message + " (development)")
    try:
        detail = asyncio.run(_probe(settings, source))
    except SophiaError as exc:
        return fail(f"{exc.message} — {exc.hint}")
    return ok(f"token accepted: {detail}")


def _register_token_check(source: str) -> None:
    @check(f"sync-{source}", "sync", timeout_s=_TOKEN_TIMEOUT_S + 2, required=False)
    def run(settings: Settings) -> Outcome:
        return token_check(source, settings)

    run.__doc__ = f"{source}: token present and valid (one cheap authenticated call)."


for _source in SOURCES:
    _register_token_check(_source)


def _age(now: datetime, last: datetime | None) -> str:
    if last is None:
        return "never succeeded"
    return f"{(now - last).total_seconds() / 3600:.1f} h ago"


@check("sync-freshness", "sync", timeout_s=8.0, required=False)
def freshness(settings: Settings) -> Outcome:
    """Every source that ever synced succeeded within SYNC_STALE_HOURS."""
    if (stopped := postgres_stopped(settings)) is not None:
        return stopped
    with postgres.connect(settings, autocommit=True, connect_timeout=3) as conn:
        if conn.execute("SELECT to_regclass('sophia.sync_runs')").fetchone() == (None,):
            return skip("warehouse not initialised (run `sophia db init`)")
        rows: list[tuple[str, datetime | None]] = [
            (str(source), last if isinstance(last, datetime) else None)
            for source, last in conn.execute(
                "SELECT source, max(finished_at) FILTER (WHERE status = 'success')"
                " FROM sophia.sync_runs GROUP BY source ORDER BY source"
            ).fetchall()
        ]
    if not rows:
        return skip("no sync has run yet")
    now = datetime.now(UTC)
    limit_s = settings.sync_stale_hours * 3600
    stale = [
        f"{source} ({_age(now, last)})"
        for source, last in rows
        if last is None or (now - last).total_seconds() > limit_s
    ]
    if stale:
        return warn(f"last success older than {settings.sync_stale_hours:g} h: {', '.join(stale)}")
    return ok(f"{len(rows)} source(s) synced within {settings.sync_stale_hours:g} h")
