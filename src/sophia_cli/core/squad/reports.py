"""Reports over the spend log: spend by group, and savings against a baseline model."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from psycopg import sql

from sophia_cli.core.errors import UsageError
from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import pricing
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.models import Deployment, SavingsOptions
from sophia_cli.core.squad.results import SavingsReport, SavingsRow, SpendReport, SpendRow
from sophia_cli.core.squad.spend import log_table

GROUPS = {
    "model": sql.SQL("coalesce(model, '-')"),
    "squad": sql.SQL("coalesce(squad, '-')"),
    "day": sql.SQL("to_char(called_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
    "caller": sql.SQL("coalesce(caller, '-')"),
    "feature": sql.SQL("coalesce(feature, '-')"),
}
_ANSWERED = sql.SQL("outcome IN ('ok', 'cache_hit')")


def _since(days: int) -> datetime:
    if days < 1:
        raise UsageError("--days must be at least 1")
    return datetime.combine(datetime.now(UTC).date() - timedelta(days=days - 1), time.min, UTC)


def spend_report(settings: Settings, days: int = 7, by: str = "model") -> SpendReport:
    """Calls, tokens and cost over the last `days` UTC days, grouped by `by`."""
    if by not in GROUPS:
        raise UsageError(f"--by {by} is not one of: {', '.join(GROUPS)}")
    since = _since(days)
    query = sql.SQL(
        """SELECT {group} AS key, count(*) FILTER (WHERE outcome <> 'adjustment'),
               count(*) FILTER (WHERE cache_hit),
               count(*) FILTER (WHERE outcome NOT IN ('ok', 'cache_hit', 'adjustment')),
               count(*) FILTER (WHERE estimated),
               coalesce(sum(tokens_in), 0), coalesce(sum(tokens_out), 0),
               coalesce(sum(cost_usd), 0)
           FROM sophia.llm_calls WHERE called_at >= %s GROUP BY 1 ORDER BY {order}"""
    ).format(group=GROUPS[by], order=sql.SQL("1" if by == "day" else "8 DESC, 1"))
    with log_table(settings) as conn:
        rows = conn.execute(query, (since,)).fetchall()
    result = [
        SpendRow(
            key=str(r[0]), calls=int(r[1]), cache_hits=int(r[2]), failures=int(r[3]),
            estimated=int(r[4]), tokens_in=int(r[5]), tokens_out=int(r[6]), cost_usd=float(r[7]),
        )
        for r in rows
    ]  # fmt: skip
    return SpendReport(
        days=days,
        by=by,
        rows=result,
        total_usd=round(sum(row.cost_usd for row in result), 8),
        total_calls=sum(row.calls for row in result),
    )


def baseline_price(options: SavingsOptions) -> pricing.Price | None:
    """The baseline model's price: the squads file's figures over LiteLLM's map."""
    probe = Deployment(
        name="baseline",
        model=options.baseline_model,
        input_cost_per_mtok=options.input_cost_per_mtok,
        output_cost_per_mtok=options.output_cost_per_mtok,
    )
    return pricing.price_for(probe)


_SAVINGS = sql.SQL(
    """SELECT to_char(called_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
           count(*) FILTER (WHERE {answered}), count(*) FILTER (WHERE cache_hit),
           coalesce(sum(baseline_usd) FILTER (WHERE outcome = 'ok'), 0),
           coalesce(sum(baseline_usd) FILTER (WHERE cache_hit), 0),
           coalesce(sum(cost_usd), 0),
           count(*) FILTER (WHERE {answered} AND baseline_usd IS NULL),
           count(*) FILTER (WHERE estimated)
       FROM sophia.llm_calls WHERE called_at >= %s AND kind = 'chat'
       GROUP BY 1 ORDER BY 1"""
).format(answered=_ANSWERED)


def savings_report(settings: Settings, days: int = 30) -> SavingsReport:
    """Baseline cost minus what was paid (failed attempts included); cache savings apart."""
    since = _since(days)
    options = load_squads(settings).savings
    price = baseline_price(options)
    if price is None:
        raise UsageError(
            f"the savings baseline {options.baseline_model} has no price",
            hint="Set savings.input_cost_per_mtok and output_cost_per_mtok in the squads file.",
        )
    with log_table(settings) as conn:
        rows = conn.execute(_SAVINGS, (since,)).fetchall()
    result = []
    for day, calls, hits, routed, cached, actual, _unpriced, _estimated in rows:
        routed_f, cached_f, actual_f = float(routed), float(cached), float(actual)
        result.append(
            SavingsRow(
                key=str(day), calls=int(calls), cache_hits=int(hits),
                baseline_usd=round(routed_f + cached_f, 8), actual_usd=actual_f,
                routing_savings_usd=round(routed_f - actual_f, 8), cache_savings_usd=cached_f,
            )
        )  # fmt: skip
    baseline = sum(r.baseline_usd for r in result)
    actual = sum(r.actual_usd for r in result)
    return SavingsReport(
        days=days,
        baseline_model=options.baseline_model,
        baseline_input_per_mtok=price.input_per_mtok,
        baseline_output_per_mtok=price.output_per_mtok,
        rows=result,
        baseline_usd=round(baseline, 8),
        actual_usd=round(actual, 8),
        routing_savings_usd=round(sum(r.routing_savings_usd for r in result), 8),
        cache_savings_usd=round(sum(r.cache_savings_usd for r in result), 8),
        savings_percent=round(100 * (baseline - actual) / baseline, 2) if baseline else 0.0,
        unpriced_calls=sum(int(r[6]) for r in rows),
        estimated_calls=sum(int(r[7]) for r in rows),
    )
