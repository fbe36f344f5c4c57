"""`sophia squad budget | spend | savings | reconcile`: the books, for people and scripts."""

from __future__ import annotations

from typing import Annotated

import typer

from sophia_cli.cli import chart, output
from sophia_cli.cli.output import FormatOption, JsonOption
from sophia_cli.cli.state import listing_json, settings, wants_json

DaysOption = Annotated[int, typer.Option("--days", min=1, help="How many UTC days back.")]


def _money(value: float | None, digits: int = 6) -> str:
    return "-" if value is None else f"${value:.{digits}f}"


def budget(ctx: typer.Context, json_output: JsonOption = False, fmt: FormatOption = None) -> None:
    """Today's budgets (UTC day): spent, held by calls in flight, remaining, alerts crossed.

    Per-squad, per-caller (token `sub`) and per-feature figures follow the day's total.

    Example: sophia squad budget --json
    """
    from sophia_cli.core.squad.budget import budget_status

    status = budget_status(settings(ctx))
    if listing_json(ctx, json_output, fmt):
        output.emit_json(status)
        return
    if status.rebuilt:
        output.say("rebuilt today's counter from the spend log")
    rows = [
        [
            status.day,
            _money(status.budget_usd, 2),
            _money(status.spent_usd),
            f"{_money(status.reserved_usd)} ({status.in_flight})",
            _money(status.remaining_usd),
            f"{status.percent_used:.1f}%",
            ", ".join(f"{level}%" for level in status.alerts_crossed) or "none",
        ]
    ]
    console = output.stdout()
    console.print(
        output.table(
            None,
            ["day", "budget", "spent", "reserved (calls)", "remaining", "used", "alerts"],
            rows,
        )
    )
    scoped = [
        [kind, name, _money(v["spent_usd"]), _money(v["reserved_usd"])]
        for kind, group in (
            ("squad", status.squads),
            ("caller", status.callers),
            ("feature", status.features),
        )
        for name, v in sorted(group.items())
    ]
    if scoped:
        console.print(output.table(None, ["scope", "name", "spent", "reserved"], scoped))


def spend(
    ctx: typer.Context,
    days: DaysOption = 7,
    by: Annotated[
        str, typer.Option("--by", help="Group by model, squad, day, caller or feature.")
    ] = "model",
    json_output: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """Spend from the log in PostgreSQL: calls, cache hits, failures, estimates, tokens, cost.

    `estimated` counts calls charged their reservation (timed out, cut, no usage) until
    `sophia squad reconcile --apply` corrects them from the provider's usage report.

    Example: sophia squad spend --days 30 --by caller
    """
    from sophia_cli.core.squad.reports import spend_report

    report = spend_report(settings(ctx), days=days, by=by)
    if listing_json(ctx, json_output, fmt):
        output.emit_json(report)
        return
    rows = [
        [r.key, r.calls, r.cache_hits, r.failures, r.estimated, r.tokens_in, r.tokens_out,
         _money(r.cost_usd)]
        for r in report.rows
    ]  # fmt: skip
    console = output.stdout()
    console.print(
        output.table(
            f"last {report.days} day(s) by {report.by}: {report.total_calls} calls, "
            f"${report.total_usd:.6f}",
            [
                report.by,
                "calls",
                "cache hits",
                "failures",
                "estimated",
                "tokens in",
                "tokens out",
                "cost",
            ],
            rows,
        )  # fmt: skip
    )
    console.print(
        chart.bars(
            f"cost by {report.by}",
            [r.key for r in report.rows],
            [r.cost_usd for r in report.rows],
            [_money(r.cost_usd) for r in report.rows],
        ),
        highlight=False,
    )


def savings(
    ctx: typer.Context,
    days: DaysOption = 30,
    json_output: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """What routing and the cache saved: the baseline model's price for the same tokens,
    minus what was paid (failed and timed-out attempts included); cache savings apart.

    The baseline is `savings.baseline_model` in the squads file (default openai/gpt-4o).

    Example: sophia squad savings --days 30
    """
    from sophia_cli.core.squad.reports import savings_report

    report = savings_report(settings(ctx), days=days)
    if listing_json(ctx, json_output, fmt):
        output.emit_json(report)
        return
    rows = [
        [r.key, r.calls, r.cache_hits, _money(r.baseline_usd), _money(r.actual_usd),
         _money(r.routing_savings_usd), _money(r.cache_savings_usd)]
        for r in report.rows
    ]  # fmt: skip
    output.stdout().print(
        output.table(
            f"last {report.days} day(s) against {report.baseline_model} "
            f"(${report.baseline_input_per_mtok:.2f}/${report.baseline_output_per_mtok:.2f} "
            "per M tokens)",
            ["day", "answers", "cache hits", "baseline", "paid", "routing saved", "cache saved"],
            rows,
        )
    )
    output.say(
        f"saved ${report.baseline_usd - report.actual_usd:.6f} of ${report.baseline_usd:.6f} "
        f"({report.savings_percent:.1f}%): routing ${report.routing_savings_usd:.6f}, "
        f"cache ${report.cache_savings_usd:.6f}"
    )
    if report.estimated_calls or report.unpriced_calls:
        output.say(
            f"[yellow]note:[/] {report.estimated_calls} call(s) are charged an estimate and "
            f"{report.unpriced_calls} have no baseline price: run `sophia squad reconcile`"
        )


def reconcile(
    ctx: typer.Context,
    days: DaysOption = 1,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write adjustment rows so the books match.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Compare the spend log with each provider's usage report, per model and UTC day.

    Deployments need `usage_api: openai` and `admin_key_env` in the squads file. Without
    --apply nothing is written; exits 1 when any model and day differ (by $0.000001 or more).

    Example: sophia squad reconcile --days 7 --apply
    """
    from sophia_cli.core.squad.reconcile import reconcile as run_reconcile

    report = run_reconcile(settings(ctx), days=days, apply=apply)
    if wants_json(ctx, json_output):
        output.emit_json(report)
    else:
        rows = [
            [r.day, f"{r.squad}/{r.deployment}", f"{r.our_requests}/{r.provider_requests}",
             f"{r.our_tokens_in}/{r.provider_tokens_in}",
             f"{r.our_tokens_out}/{r.provider_tokens_out}", _money(r.our_cost_usd),
             _money(r.provider_cost_usd), _money(r.difference_usd), r.estimated_rows,
             "adjusted" if r.adjusted else ""]
            for r in report.rows
        ]  # fmt: skip
        output.stdout().print(
            output.table(
                "ours/provider's",
                [
                    "day",
                    "deployment",
                    "requests",
                    "tokens in",
                    "tokens out",
                    "our cost",
                    "provider's",
                    "difference",
                    "estimates",
                    "",
                ],
                rows,
            )  # fmt: skip
        )
        for where, reason in sorted(report.skipped.items()):
            output.say(f"[dim]{where}: {reason}[/]")
    if not apply and any(abs(r.difference_usd) >= 1e-6 for r in report.rows):
        raise typer.Exit(1)
