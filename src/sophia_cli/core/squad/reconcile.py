"""Compare our ledger with the provider's usage report, and correct it when asked.

Providers that publish usage (OpenAI's organisation usage API, and OpenAI-compatible ones
that copy it) report requests and tokens per model per UTC day. We price their tokens with
the same calculator as our own rows, so the difference is what our estimates (timed-out and
cut calls charged their reservation) got wrong. `apply` writes one `adjustment` row per
model and day for the difference, so the books, the budget and the reports follow the
invoice; running it again finds nothing left to adjust.
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sophia_cli.core.errors import UpstreamError, UsageError
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import budget, llm, pricing, spend
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.keys import key_value
from sophia_cli.core.squad.models import Deployment
from sophia_cli.core.squad.results import ReconcileReport, ReconcileRow
from sophia_cli.store import pooled

Totals = dict[str, int]
TIMEOUT_S = 30.0
_OURS = """
SELECT (called_at AT TIME ZONE 'UTC')::date, count(*) FILTER (WHERE outcome IN
           ('ok', 'timeout', 'cut', 'pending')),
       coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0), coalesce(sum(cost_usd), 0),
       count(*) FILTER (WHERE estimated AND outcome <> 'adjustment')
FROM sophia.llm_calls
WHERE called_at >= %s AND squad = %s AND deployment = %s AND NOT cache_hit
GROUP BY 1
"""


def reconcile(settings: Settings, days: int = 1, apply: bool = False) -> ReconcileReport:
    """Every deployment with a usage API: our figures, the provider's, the difference."""
    if days < 1 or days > 31:
        raise UsageError("--days must be between 1 and 31")
    config = load_squads(settings)
    since = datetime.combine(datetime.now(UTC).date() - timedelta(days=days - 1), time.min, UTC)
    rows: list[ReconcileRow] = []
    skipped: dict[str, str] = {}
    reports: dict[tuple[str, str], dict[date, dict[str, Totals]]] = {}
    for squad_name, squad in config.squads.items():
        for dep in squad.deployments:
            where = f"{squad_name}/{dep.name}"
            if dep.usage_api is None or dep.admin_key_env is None:
                skipped[where] = "no usage API: set usage_api and admin_key_env to reconcile"
                continue
            target = llm.endpoint(settings, squad_name, dep)
            admin_key = key_value(settings, dep.admin_key_env)
            if not target.api_base or not admin_key:
                skipped[where] = f"{dep.admin_key_env} or api_base is not set"
                continue
            source = (target.api_base, admin_key)
            if source not in reports:
                reports[source] = fetch_usage(target.api_base, admin_key, since)
            rows += _compare(settings, squad_name, dep, reports[source], since)
    if apply:
        for row in rows:
            row.adjusted = _adjust(settings, row)
    return ReconcileReport(
        days=days,
        rows=rows,
        skipped=skipped,
        our_total_usd=round(sum(r.our_cost_usd for r in rows), 8),
        provider_total_usd=round(sum(r.provider_cost_usd for r in rows), 8),
        applied=apply,
    )


def fetch_usage(api_base: str, admin_key: str, since: datetime) -> dict[date, dict[str, Totals]]:
    """The provider's completions usage per UTC day and model (every page)."""
    import httpx

    url = api_base.rstrip("/") + "/organization/usage/completions"
    params: dict[str, Any] = {
        "start_time": int(since.timestamp()), "end_time": int(clock.time()) + 60,
        "bucket_width": "1d", "group_by": "model", "limit": 31,
    }  # fmt: skip
    found: dict[date, dict[str, Totals]] = defaultdict(dict)
    for _page in range(100):
        try:
            response = httpx.get(
                url, params=params, headers={"Authorization": f"Bearer {admin_key}"},
                timeout=TIMEOUT_S,
            )  # fmt: skip
            response.raise_for_status()
            page = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise UpstreamError(
                f"the usage report at {url} could not be read: {type(exc).__name__}: {exc}",
                hint="Check the admin key (usage reports need an organisation admin key).",
            ) from exc
        for bucket in page.get("data", []):
            day = datetime.fromtimestamp(int(bucket["start_time"]), UTC).date()
            for result in bucket.get("results", []):
                model = str(result.get("model") or "")
                totals = found[day].setdefault(model, defaultdict(int))
                for field in ("input_tokens", "output_tokens", "input_cached_tokens"):
                    totals[field] += int(result.get(field) or 0)
                totals["num_model_requests"] += int(result.get("num_model_requests") or 0)
        if not page.get("has_more") or not page.get("next_page"):
            break
        params["page"] = page["next_page"]
    return found


def _provider_totals(report: dict[str, Totals], dep: Deployment) -> Totals:
    """The report's lines for this deployment's model (snapshots such as `-2024-07-18` too)."""
    name = dep.model.split("/", 1)[-1]
    totals: Totals = defaultdict(int)
    for model, values in report.items():
        if model == name or model.startswith(name + "-"):
            for field, value in values.items():
                totals[field] += value
    return totals


def _priced(dep: Deployment, totals: Totals) -> float:
    from litellm.types.utils import PromptTokensDetailsWrapper, Usage

    llm.load_litellm()
    usage = Usage(
        prompt_tokens=totals["input_tokens"],
        completion_tokens=totals["output_tokens"],
        total_tokens=totals["input_tokens"] + totals["output_tokens"],
        prompt_tokens_details=PromptTokensDetailsWrapper(
            cached_tokens=totals["input_cached_tokens"]
        ),
    )
    return pricing.actual_cost(dep, usage)


def _compare(
    settings: Settings,
    squad: str,
    dep: Deployment,
    report: dict[date, dict[str, Totals]],
    since: datetime,
) -> list[ReconcileRow]:
    with spend.log_table(settings) as conn:
        ours = {r[0]: r for r in conn.execute(_OURS, (since, squad, dep.name)).fetchall()}
    rows = []
    for day in sorted(set(ours) | set(report)):
        mine = ours.get(day, (day, 0, 0, 0, 0, 0))
        theirs = _provider_totals(report.get(day, {}), dep)
        provider_cost = round(_priced(dep, theirs), 8)
        our_cost = float(mine[4])
        rows.append(
            ReconcileRow(
                day=day, squad=squad, deployment=dep.name, model=dep.model,
                our_requests=int(mine[1]), provider_requests=theirs["num_model_requests"],
                our_tokens_in=int(mine[2]), provider_tokens_in=theirs["input_tokens"],
                our_tokens_out=int(mine[3]), provider_tokens_out=theirs["output_tokens"],
                our_cost_usd=our_cost, provider_cost_usd=provider_cost,
                difference_usd=round(provider_cost - our_cost, 8), estimated_rows=int(mine[5]),
            )
        )  # fmt: skip
    return rows


def _adjust(settings: Settings, row: ReconcileRow) -> bool:
    """One adjustment row for the difference; today's counter is rebuilt to include it."""
    units = budget.to_units(row.difference_usd)
    if units == 0:
        return False
    at = datetime.combine(row.day, time(12), UTC)
    now = datetime.now(UTC)
    with pooled.pg_pool(settings).connection() as conn:
        conn.execute(
            "INSERT INTO sophia.llm_calls (request_id, called_at, squad, deployment, model, "
            "cost_usd, outcome, error, settled_at) VALUES (%s, %s, %s, %s, %s, %s, "
            "'adjustment', %s, %s)",
            (
                f"reconcile-{row.day}-{row.squad}-{row.deployment}",
                min(at, now), row.squad, row.deployment, row.model,
                Decimal(units) / spend.UNITS, "reconciled with the provider's usage report", now,
            ),
        )  # fmt: skip
    if row.day == budget.today():
        # The counter is rebuilt from the log at the next call, adjustment included.
        pooled.redis_client(settings).delete(budget.day_key(settings, row.day))
    return True
