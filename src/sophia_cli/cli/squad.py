"""`sophia squad`: route LLM calls to the cheapest capable model, within a daily budget."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import FormatOption, JsonOption, escape
from sophia_cli.cli.state import listing_json, settings, wants_json
from sophia_cli.core.errors import UsageError
from sophia_cli.core.squad.capabilities import CAPABILITIES

if TYPE_CHECKING:
    from sophia_cli.core.squad.request import CallContext, CompletionRequest
    from sophia_cli.core.squad.results import RoutingRecord

app = typer.Typer(
    help=(
        "Route LLM calls to the cheapest capable model, with fallbacks, a Redis cache and "
        "daily budgets that can't be overspent; books that match the provider's invoice. "
        "Squads come from SOPHIA_SQUADS_FILE (or the built-in file). `sophia serve` offers "
        "the same router as an OpenAI-compatible API at /v1."
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
    int | None,
    typer.Option(
        "--max-tokens",
        min=1,
        help="Most output tokens (default: the model's own limit, which the budget reserves).",
    ),
]
SquadOption = Annotated[
    str | None, typer.Option("--squad", help="Use only this squad (default: every squad).")
]
ModelOption = Annotated[
    str,
    typer.Option("--model", "-m", help="auto, a squad, a deployment (squad/name) or a model id."),
]
FeatureOption = Annotated[
    str | None,
    typer.Option("--feature", help="Feature tag for the spend log and its budget."),
]
PromptArgument = Annotated[str, typer.Argument(help="The prompt; `-` reads it from stdin.")]


def _request(
    prompt: str,
    capability: list[str] | None,
    max_tokens: int | None,
    squad: str | None,
    model: str = "auto",
    system: str | None = None,
    temperature: float | None = None,
    use_cache: bool = True,
) -> CompletionRequest:
    from sophia_cli.core.squad.request import CompletionRequest

    text = sys.stdin.read() if prompt == "-" else prompt
    if not text.strip():
        raise UsageError(
            "the prompt is empty", hint="Pass the prompt as an argument or on stdin with `-`."
        )
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    return CompletionRequest(
        messages=messages,
        model=model,
        capabilities=capability or ["chat"],
        max_tokens=max_tokens,
        temperature=temperature,
        use_cache=use_cache,
        squad=squad,
    )


def _context(feature: str | None) -> CallContext:
    """The CLI's caller is `cli:<login>`, so its calls are charged back like a token's."""
    import getpass

    from pydantic import ValidationError

    from sophia_cli.core.squad.request import CallContext

    try:
        return CallContext(caller=f"cli:{getpass.getuser()}", feature=feature)
    except ValidationError as exc:
        raise UsageError(
            f"--feature {feature!r} is not a valid tag",
            hint="Use 1-64 letters, digits, dots, colons, dashes or underscores.",
        ) from exc


def _warn_config(ctx: typer.Context) -> None:
    """Show the squads file's warnings (a deprecated OpenRouter squad) on stderr."""
    from sophia_cli.core.squad.config import load_squads

    for warning in load_squads(settings(ctx)).warnings:
        output.say(f"[yellow]warning:[/] {escape(warning)}")


@app.command()
def models(ctx: typer.Context, json_output: JsonOption = False, fmt: FormatOption = None) -> None:
    """List every squad's deployments: capabilities, context, prices and whether a key is set.

    Prices are USD per million tokens, from the squads file or LiteLLM's bundled price map.

    Example: sophia squad models --json
    """
    from sophia_cli.core.squad.catalog import list_deployments

    rows = list_deployments(settings(ctx))
    _warn_config(ctx)
    if listing_json(ctx, json_output, fmt):
        output.emit_json(rows)
        return
    table = [
        [
            row.squad + ("*" if row.primary else "") + (" (deprecated)" if row.deprecated else ""),
            row.deployment,
            row.model,
            ", ".join(row.capabilities),  # the space lets a narrow table wrap between them
            _count(row.context_window),
            _count(row.max_output_tokens),
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
                "max out",
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
    max_tokens: MaxTokensOption = None,
    system: Annotated[str | None, typer.Option("--system", help="A system message.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", min=0, max=2)] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Skip the response cache.")] = False,
    model: ModelOption = "auto",
    squad: SquadOption = None,
    feature: FeatureOption = None,
    json_output: JsonOption = False,
) -> None:
    """Answer a prompt with the cheapest capable model; the answer goes to stdout.

    Only --temperature 0 answers are cached (and replayed). A call the budget cannot cover
    exits 4 (budget_exceeded); one that waits on calls in flight says when to retry.

    Example: sophia squad complete "Summarise our Q3 pipeline" -c code --max-tokens 200
    """
    from sophia_cli.core.squad.alerts import deliver_due
    from sophia_cli.core.squad.router import complete as run_complete

    request = _request(
        prompt, capability, max_tokens, squad, model, system, temperature, not no_cache
    )
    _warn_config(ctx)
    answer = run_complete(settings(ctx), request, _context(feature))
    if wants_json(ctx, json_output):
        output.emit_json(answer.model_dump(mode="json", exclude={"raw_message", "choices"}))
    else:
        sys.stdout.write(answer.text.rstrip("\n") + "\n")
        source = "cache" if answer.cache_hit else f"{answer.squad}/{answer.deployment}"
        finish = f" · stopped: {answer.finish_reason}" if answer.finish_reason != "stop" else ""
        output.say(
            f"[dim]{source} · {answer.tokens_in}+{answer.tokens_out} tokens · "
            f"${answer.cost_usd:.6f} · {answer.latency_ms} ms{escape(finish)}[/]"
        )
    deliver_due(settings(ctx))  # budget alerts this call queued, now that it has answered


@app.command()
def route(
    ctx: typer.Context,
    prompt: PromptArgument,
    capability: CapabilityOption = None,
    max_tokens: MaxTokensOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show every candidate and why.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only: call no model.")] = False,
    model: ModelOption = "auto",
    squad: SquadOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show how a prompt would be routed: candidates, estimated costs, skip reasons, choice.

    Without --dry-run the call is made (uncached) and the record shows what happened.

    Example: sophia squad route "Write a SQL query" -c code --explain --dry-run
    """
    from sophia_cli.core.squad import router

    request = _request(prompt, capability, max_tokens, squad, model, use_cache=False)
    _warn_config(ctx)
    record = (
        router.route(settings(ctx), request)
        if dry_run
        else router.complete(settings(ctx), request, _context(None)).routing
    )
    if wants_json(ctx, json_output):
        output.emit_json(record)
        return
    chosen = record.chosen or next(
        (f"{c.squad}/{c.deployment}" for c in record.candidates if c.status == "eligible"), None
    )
    if explain:
        _print_record(record)
    if explain and record.quality is not None:
        quality = record.quality
        why = quality.rule or f"score {quality.score:.2f}"
        parts = ", ".join(f"{name} {value:.2f}" for name, value in quality.features.items())
        output.say(f"quality router: {quality.tier} tier ({why}; {parts})")
    limit = record.max_tokens if record.max_tokens is not None else "the model's limit"
    output.say(
        f"{'would route to' if dry_run else 'answered by'} {chosen or 'nobody'} "
        f"(~{record.estimated_tokens_in} prompt tokens, max {limit} out)"
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
            str(c.attempts) if c.attempts else "",
            escape(c.reason),
        ]
        for index, c in enumerate(record.candidates, 1)
    ]
    output.stdout().print(
        output.table(
            None,
            ["#", "deployment", "model", "est. $", "reserve $", "status", "tries", "reason"],
            rows,
        )
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


def _register_books() -> None:
    from sophia_cli.cli import squad_books

    for command in (
        squad_books.budget,
        squad_books.spend,
        squad_books.savings,
        squad_books.reconcile,
    ):
        app.command()(command)


_register_books()
