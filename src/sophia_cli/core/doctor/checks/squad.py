"""Squad: which squads can route calls, and today's budget."""

from __future__ import annotations

from sophia_cli.core.doctor.embedded import postgres_stopped, redis_stopped
from sophia_cli.core.doctor.models import Outcome, ok, warn
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.settings import Settings


@check("squad.config", "squad", timeout_s=5.0, required=False)
def squads_usable(settings: Settings) -> Outcome:
    """The squads file loads; each squad's configured deployments (a key is set)."""
    from sophia_cli.core.squad.catalog import list_deployments
    from sophia_cli.core.squad.config import load_squads

    config = load_squads(settings)
    rows = list_deployments(settings)
    parts, usable = [], []
    for name in config.squads:
        mine = [row for row in rows if row.squad == name]
        ready = sum(row.configured for row in mine)
        parts.append(f"{name}{'*' if name == settings.primary_squad else ''} {ready}/{len(mine)}")
        if ready:
            usable.append(name)
    detail = f"configured deployments: {', '.join(parts)}"
    if config.warnings:
        return warn(f"{detail}; {config.warnings[0]}")
    if not usable:
        missing = sorted(
            {row.api_key_env for row in rows if row.api_key_env and not row.configured}
        )
        return warn(f"{detail}; no squad usable: set {' or '.join(missing)}")
    if settings.primary_squad not in usable:
        return warn(f"{detail}; primary squad {settings.primary_squad} has no key set")
    return ok(f"{detail}; usable: {', '.join(usable)}")


@check("squad.budget", "squad", timeout_s=10.0, required=False)
def budget_today(settings: Settings) -> Outcome:
    """Today's spend against SQUAD_DAILY_BUDGET_USD, and alert levels crossed."""
    from sophia_cli.core.squad.budget import budget_status, usd_text

    # Counters live in Redis and are rebuilt from the spend log in PostgreSQL.
    if (stopped := redis_stopped(settings) or postgres_stopped(settings)) is not None:
        return stopped
    status = budget_status(settings)
    detail = (
        f"{status.day}: {usd_text(status.spent_usd)} spent ({status.percent_used:.1f}%), "
        f"{usd_text(status.reserved_usd)} reserved, {usd_text(status.remaining_usd)} "
        f"of {usd_text(status.budget_usd)} left"
    )
    if status.remaining_usd <= 0:
        return warn(f"{detail}; calls are refused until the UTC reset")
    if status.alerts_crossed and status.alerts_crossed[-1] >= 80:
        return warn(detail)
    return ok(detail)
