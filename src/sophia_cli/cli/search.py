"""`sophia search`: hybrid (BM25 + dense) search over synced Slack, Gong and Asana text."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape

from sophia_cli.cli import completion, output
from sophia_cli.cli.output import FormatOption, JsonOption
from sophia_cli.cli.state import listing_json, settings
from sophia_cli.core.errors import UsageError
from sophia_cli.core.sync.sources import SEARCHABLE, spoken


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value!r} is not a date", hint="Use YYYY-MM-DD.") from exc


def _outside(affiliation: str) -> str:
    return " (external)" if affiliation == "external" else ""


def search_command(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(help="What to look for; time phrases and 'customers said' become filters."),
    ],  # fmt: skip
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid (BM25 + dense, fused), bm25 or dense.")
    ] = "hybrid",
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help=f"Only this source: {spoken(SEARCHABLE, 'or')}.",
            autocompletion=completion.complete_sources,
        ),
    ] = None,
    author: Annotated[
        str | None, typer.Option("--author", help="Only texts by this person (part of a name).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Only this Slack channel (part of its name).")
    ] = None,
    call: Annotated[
        str | None, typer.Option("--call", help="Only this Gong call (part of its title).")
    ] = None,
    external: Annotated[
        bool, typer.Option("--external", help="Only people outside the company (customers).")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="Only texts from this day on (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only texts before this day (YYYY-MM-DD).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day time phrases count from.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most hits to show (1-100).")] = 10,
    json_output: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """Search synced Slack messages, Gong speaker turns and Asana tasks (BM25 + meaning).

    Example: sophia search "what did customers say about pricing last month" --source gong
    """
    from sophia_cli.core.search.search import MODES, build_filters, search

    if mode not in MODES:
        raise UsageError(f"--mode {mode!r} is not a mode", hint=f"Use one of: {', '.join(MODES)}.")
    filters = build_filters(
        source=source, author=author, channel=channel, call=call, external_only=external,
        since=_date(since, "--since"), until=_date(until, "--until"),
    )  # fmt: skip
    results = search(settings(ctx), text, mode=mode, filters=filters, limit=limit,
                     as_of=_date(as_of, "--as-of"))  # fmt: skip
    if listing_json(ctx, json_output, fmt):
        output.emit_json(results)
        return
    if results.note:
        output.say(results.note)
    rows = [
        [hit.source, escape(hit.place), escape(hit.author) + _outside(hit.affiliation),
         f"{hit.time:%Y-%m-%d}" if hit.time else "", escape(hit.snippet), f"{hit.score:.3f}"]
        for hit in results.hits
    ]  # fmt: skip
    columns = ["source", "where", "who", "when", "snippet", "score"]
    output.stdout().print(output.table(None, columns, rows))
    applied = results.filters.model_dump(exclude_defaults=True, mode="json")
    how = f"{results.mode}" + (f" ({results.fusion})" if results.fusion else "")
    output.say(f"{len(results.hits)} hit(s), {how}" + (f", filters {applied}" if applied else ""))
