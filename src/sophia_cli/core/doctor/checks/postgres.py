"""PostgreSQL: reachable, version, latency, migrations current."""

from __future__ import annotations

import time

from sophia_cli.core.db.status import summarise
from sophia_cli.core.doctor.embedded import postgres_stopped
from sophia_cli.core.doctor.models import Outcome, fail, ok
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.settings import Settings
from sophia_cli.store import migrations, postgres

_TIMEOUT_S = 5.0


@check("postgres", "stores", timeout_s=_TIMEOUT_S + 10)
def postgres_reachable(settings: Settings) -> Outcome:
    """Connect, measure a round trip, report the server version."""
    if (stopped := postgres_stopped(settings)) is not None:
        return stopped
    url = postgres.resolve_url(settings)
    started = time.perf_counter()
    with postgres.connect_url(url, autocommit=True, connect_timeout=_TIMEOUT_S) as conn:
        connected = time.perf_counter()
        row = conn.execute("SHOW server_version").fetchone()
        round_trip = time.perf_counter() - connected
    version = row[0] if row else "unknown"
    return ok(
        f"PostgreSQL {version} at {postgres.describe(url)}: connect "
        f"{(connected - started) * 1000:.0f} ms, query {round_trip * 1000:.1f} ms"
    )


@check("migrations", "stores", timeout_s=_TIMEOUT_S + 10)
def migrations_current(settings: Settings) -> Outcome:
    """Every shipped migration applied, none changed."""
    if (stopped := postgres_stopped(settings)) is not None:
        return stopped
    with postgres.connect(settings, autocommit=True, connect_timeout=_TIMEOUT_S) as conn:
        summary = summarise(migrations.state(conn))
    if summary.changed or summary.unknown:
        return fail(
            f"migrations differ from this sophia: changed {summary.changed}, "
            f"unknown {summary.unknown}"
        )
    if summary.pending:
        return fail(
            f"{len(summary.pending)} pending ({', '.join(summary.pending)}); "
            "run `sophia db upgrade`"
        )
    return ok(f"{len(summary.applied)} applied, none pending")
