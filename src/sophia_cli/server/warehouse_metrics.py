"""Metrics read from the warehouse at scrape time: sync freshness and rows per source, budget.

Syncs mostly run in other processes (the CronJob's pods, a cron on a host), which exit before
any scrape, so their counters would never reach Prometheus. `sophia.sync_runs` knows every
run whoever made it: each API replica reports from it, and dashboards and alerts take the
max over replicas. A warehouse that cannot answer leaves these series out of the scrape
(and `sophia_warehouse_scrape_ok` says 0) rather than failing /metrics.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from sophia_cli.core.settings import Settings
from sophia_cli.store import pooled

# Per source: when its stalest stream last succeeded, and rows its runs wrote in 24 hours.
_FRESHNESS_SQL = """
WITH last AS (
    SELECT source, stream, max(finished_at) AS finished_at
      FROM sophia.sync_runs WHERE status = 'success' GROUP BY source, stream
)
SELECT last.source,
       extract(epoch FROM min(last.finished_at))::float8,
       coalesce((SELECT sum(r.rows_inserted + r.rows_updated + r.rows_deleted)
                   FROM sophia.sync_runs r
                  WHERE r.source = last.source AND r.status = 'success'
                    AND r.finished_at > now() - interval '24 hours'), 0)::float8
  FROM last GROUP BY last.source ORDER BY last.source
"""

LAST_SUCCESS = "sophia_sync_last_success_timestamp_seconds"
ROWS_24H = "sophia_sync_rows_24h"
BUDGET = "sophia_squad_budget_usd"
SCRAPE_OK = "sophia_warehouse_scrape_ok"


def exposition(settings: Settings) -> bytes:
    """These metrics in the text format, read now (blocking: call from a thread)."""
    registry = CollectorRegistry()
    last = Gauge(
        LAST_SUCCESS,
        "Unix time the source's stalest stream last synced successfully.",
        ["source"],
        registry=registry,
    )
    rows = Gauge(
        ROWS_24H, "Rows written by the source's successful syncs in 24 hours.", ["source"],
        registry=registry,
    )  # fmt: skip
    budget = Gauge(BUDGET, "The squad's daily budget (SQUAD_DAILY_BUDGET_USD).", registry=registry)
    ok = Gauge(SCRAPE_OK, "1 when the warehouse answered this scrape.", registry=registry)
    budget.set(settings.squad_daily_budget_usd)
    try:
        with pooled.read_pool(settings).pool.connection(timeout=2) as conn:
            found = conn.execute(_FRESHNESS_SQL).fetchall()
    except Exception:  # a scrape must not fail because the warehouse is down: /ready says so
        ok.set(0)
        return generate_latest(registry)
    ok.set(1)
    for source, finished, written in found:
        last.labels(str(source)).set(float(str(finished)))
        rows.labels(str(source)).set(float(str(written)))
    return generate_latest(registry)
