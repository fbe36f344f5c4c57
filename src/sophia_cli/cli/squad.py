"""`sophia squad`: route LLM calls to the cheapest capable model, within a daily budget."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sophia_cli.cli import chart, output
from sophia_cli.cli.output import JsonOption
from sophia_cli.cli.state import settings, wants_json
from sophia_cli.core.errors import UsageError
from sophia_cli.core.squad.capabilities import CAPABILITIES

if TYPE_CHECKING:
    from sophia_cli.core.squad.models import CompletionRequest, RoutingRecord

app = typer.Typer(
    help=(
        "Route LLM calls to the cheapest capable model, with fallbacks, a Redis cache and a "
        "daily budget that can't be overspent. Squads come from SOPHIA_SQUADS_FILE (or the "
        "built-in file); PRIMARY_SQUAD picks the first one tried."
    ),
    no_args_is_help=True,
)

CapabilityOption = Annotated[
    list[str] | None,
    typer.Option(
        "--capability",
        "-c",
        help=f"Capability the model must have (repeatable): {', '.join(CAPABILITIES)}.",
    ),
]
MaxTokensOption = Annotated[
    int, typer.Option("--max-tokens", min=1, help="Most output tokens; sets the worst-case cost.")
]
SquadOption = Annotated[
    str | None, typer.Option("--squad", help="Use only this squad (default: primary, then others).")
]
PromptArgument = Annotated[str, typer.Argument(help="The prompt; `-` reads it from stdin.")]


def _request(
    prompt: str,
    capability: list[str] | None,
    max_tokens: int,
    squad: str | None,
    system: str | None = None,
    temperature: float | None = None,
    use_cache: bool = True,
) -> CompletionRequest:
    from sophia_cli.core.squad.models import CompletionRequest

    text = sys.stdin.read() if prompt == "-" else prompt
    if not text.strip():
        raise UsageError(
            "the prompt is empty", hint="Pass the prompt as an argument or on stdin with `-`."
        )
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    return CompletionRequest(
        messages=messages,
        capabilities=capability or ["chat"],
        max_tokens=max_tokens,
        temperature=temperature,
        use_cache=use_cache,
        squad=squad,
    )


def _warn_config(ctx: typer.Context) -> None:
    """Show the squads file's warnings (a deprecated OpenRouter squad) on stderr."""
    from sophia_cli.core.squad.config import load_squads

    for warning in load_squads(settings(ctx)).warnings:
        output.say(f"[yellow]warning:[/] {escape(warning)}")


@app.command()
def models(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List every squad's deployments: capabilities, context, prices and whether a key is set.

    Prices are USD per million tokens, from the squads file or LiteLLM's bundled price map.

    Example: sophia squad models --json
    """
    from sophia_cli.core.squad.catalog import list_deployments

    rows = list_deployments(settings(ctx))
    _warn_config(ctx)
    if wants_json(ctx, json_output):
        output.emit_json(rows)
        return
    table = [
        [
            row.squad + ("*" if row.primary else "") + (" (deprecated)" if row.deprecated else ""),
            row.deployment,
            row.model,
            ",".join(row.capabilities),
            _count(row.context_window),
            _money(row.input_cost_per_mtok),
            _money(row.output_cost_per_mtok),
            row.price_source,
            f"{output.STATUS_MARKS['ok' if row.configured else 'fail']} {row.api_key_env or '-'}",
        ]
        for row in rows
    ]
    output.stdout().print(
        output.table(
            None,
            [
                "squad",
                "deployment",
                "model",
                "capabilities",
                "context",
                "$in/M",
                "$out/M",
                "price",
                "key",
            ],
            table,
        )
    )
    output.say("* primary squad (PRIMARY_SQUAD); prices in USD per million tokens")


@app.command()
def complete(
    ctx: typer.Context,
    prompt: PromptArgument,
    capability: CapabilityOption = None,
    max_tokens: MaxTokensOption = 512,
    system: Annotated[str | None, typer.Option("--system", help="A system message.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", min=0, max=2)] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Skip the response cache.")] = False,
    squad: SquadOption = None,
    json_output: JsonOption = False,
) -> None:
    """Answer a prompt with the cheapest capable model; the answer goes to stdout.

    A call the budget cannot cover exits 4 (error code budget_exceeded).

    Example: sophia squad complete "Summarise our Q3 pipeline" --capability code --max-tokens 200
    """
    from sophia_cli.core.squad.router import complete as run_complete

    request = _request(prompt, capability, max_tokens, squad, system, temperature, not no_cache)
    _warn_config(ctx)
    answer = run_complete(settings(ctx), request)
    if wants_json(ctx, json_output):
        output.emit_json(answer.model_dump(mode="json", exclude={"raw_message"}))
        return
    sys.stdout.write(answer.text.rstrip("\n") + "\n")
    source = "cache" if answer.cache_hit else f"{answer.squad}/{answer.deployment}"
    output.say(
        f"[dim]{source} · {answer.tokens_in}+{answer.tokens_out} tokens · "
        f"${answer.cost_usd:.6f} · {answer.latency_ms} ms[/]"
    )


@app.command()
def route(
    ctx: typer.Context,
    prompt: PromptArgument,
    capability: CapabilityOption = None,
    max_tokens: MaxTokensOption = 512,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every candidate and why.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only: call no model.")] = False,
    squad: SquadOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show how a prompt would be routed: candidates, estimated costs, skip reasons, choice.

    Without --dry-run the call is made (uncached) and the record shows what happened.

    Example: sophia squad route "Write a SQL query" -c code --explain --dry-run
    """
    from sophia_cli.core.squad import router

    request = _request(prompt, capability, max_tokens, squad, use_cache=False)
    _warn_config(ctx)
    record = (
        router.route(settings(ctx), request)
        if dry_run
        else router.complete(settings(ctx), request).routing
    )
    if wants_json(ctx, json_output):
        output.emit_json(record)
        return
    chosen = record.chosen or next(
        (f"{c.squad}/{c.deployment}" for c in record.candidates if c.status == "eligible"), None
    )
    if explain:
        _print_record(record)
    output.say(
        f"{'would route to' if dry_run else 'answered by'} {chosen or 'nobody'} "
        f"(~{record.estimated_tokens_in} prompt tokens, max {record.max_tokens} out)"
    )


def _print_record(record: RoutingRecord) -> None:
    rows = [
        [
            str(index),
            f"{c.squad}/{c.deployment}",
            c.model,
            _money(c.estimated_cost_usd, 6),
            _money(c.reserve_usd, 6),
            c.status,
            escape(c.reason),
        ]
        for index, c in enumerate(record.candidates, 1)
    ]
    output.stdout().print(
        output.table(
            None, ["#", "deployment", "model", "est. $", "reserve $", "status", "reason"], rows
        )
    )


@app.command()
def budget(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Today's budget (UTC day): spent, reserved by calls in flight, remaining, alerts crossed.

    Example: sophia squad budget --json
    """
    from sophia_cli.core.squad.budget import budget_status

    status = budget_status(settings(ctx))
    if wants_json(ctx, json_output):
        output.emit_json(status)
        return
    if status.rebuilt:
        output.say("rebuilt today's counter from the spend log")
    rows = [
        [
            status.day,
            _money(status.budget_usd),
            _money(status.spent_usd, 6),
            _money(status.reserved_usd, 6),
            _money(status.remaining_usd, 6),
            f"{status.percent_used:.1f}%",
            ", ".join(f"{level}%" for level in status.alerts_crossed) or "none",
        ]
    ]
    output.stdout().print(
        output.table(
            None,
            ["day", "budget", "spent", "reserved", "remaining", "used", "alerts crossed"],
            rows,
        )
    )


@app.command()
def spend(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, help="How many UTC days back.")] = 7,
    by: Annotated[str, typer.Option("--by", help="Group by model, squad or day.")] = "model",
    json_output: JsonOption = False,
) -> None:
    """Spend from the log in PostgreSQL: calls, cache hits, failures, tokens, cost; with a chart.

    Example: sophia squad spend --days 30 --by day
    """
    from sophia_cli.core.squad.spend import spend_report

    report = spend_report(settings(ctx), days=days, by=by)
    if wants_json(ctx, json_output):
        output.emit_json(report)
        return
    rows = [
        [r.key, r.calls, r.cache_hits, r.failures, r.tokens_in, r.tokens_out, _money(r.cost_usd, 6)]
        for r in report.rows
    ]
    console = output.stdout()
    console.print(
        output.table(
            f"last {report.days} day(s) by {report.by}: {report.total_calls} calls, "
            f"${report.total_usd:.6f}",
            [report.by, "calls", "cache hits", "failures", "tokens in", "tokens out", "cost"],
            rows,
        )
    )
    console.print(
        chart.bars(
            f"cost by {report.by}",
            [r.key for r in report.rows],
            [r.cost_usd for r in report.rows],
            [_money(r.cost_usd, 6) for r in report.rows],
        ),
        highlight=False,
    )


@app.command("test")
def test_(ctx: typer.Context, squad: SquadOption = None, json_output: JsonOption = False) -> None:
    """Ping each configured deployment with a one-token call; exit 1 if any of them failed.

    Example: sophia squad test --squad aimlapi
    """
    from sophia_cli.core.squad.catalog import ping_all

    results = ping_all(settings(ctx), squad)
    if wants_json(ctx, json_output):
        output.emit_json(results)
    else:
        output.stdout().print(
            output.table(
                None,
                ["squad", "deployment", "result", "latency", "detail"],
                [
                    [
                        r.squad,
                        r.deployment,
                        output.STATUS_MARKS["ok" if r.ok else "fail"],
                        f"{r.latency_ms} ms" if r.latency_ms is not None else "-",
                        escape(r.detail),
                    ]
                    for r in results
                ],
            )
        )
    tried = [r for r in results if r.latency_ms is not None]
    if not tried or not all(r.ok for r in tried):
        raise typer.Exit(1)


def _money(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"${value:.{digits}f}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
