"""`sophia ask`, `sophia query` and `sophia search`: questions, guarded SQL, full-text search."""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import FormatOption, JsonOption, escape
from sophia_cli.cli.state import listing_json, settings, wants_json
from sophia_cli.core.errors import UsageError

if TYPE_CHECKING:
    from sophia_cli.core.bi.interpretation import Interpretation

TABLE_ROWS = 25


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value!r} is not a date", hint="Use YYYY-MM-DD.") from exc


def _rows_table(columns: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    """Every returned row for pipes and --format; a terminal table shows the first ones.
    Returns the rows shown, so the chart draws the same rows in the same order."""
    console = output.stdout()
    terminal = output.table(None, columns, []).format_for(console) is output.Format.TABLE
    shown = rows[:TABLE_ROWS] if terminal else rows
    cells = [["(none)" if c is None else (f"{c:,.2f}" if isinstance(c, float) else c)
              for c in row] for row in shown]  # fmt: skip
    console.print(output.table(None, columns, cells))
    if len(rows) > len(shown):
        output.say(
            f"… {len(rows) - len(shown)} more of the {len(rows)} returned rows not shown "
            "(--format tsv or --json prints them all)"
        )
    return shown


def _chart(interp: Interpretation, columns: list[str], rows: list[list[Any]]) -> str | None:
    """A terminal chart when the core says the rows are a series or a one-dimension ranking."""
    from sophia_cli.cli.chart import bars

    if interp.kind != "semantic" or interp.shape() not in ("series", "ranking"):
        return None
    if len(rows) < 2 or len(columns) < 2:
        return None
    numeric = [row[1] if isinstance(row[1], int | float) else 0.0 for row in rows]
    labels = ["(none)" if row[0] is None else str(row[0]) for row in rows]
    shown = [f"{v:,.2f}".rstrip("0").rstrip(".") for v in numeric]
    return bars(f"{columns[1]} by {columns[0]}", labels, numeric, shown)


def _complete_question(incomplete: str) -> list[str]:
    """Metric and dimension words of the semantic layer, for shell completion."""
    from sophia_cli.core.bi.catalog import vocabulary
    from sophia_cli.core.bi.semantic import load_layer

    try:
        words = vocabulary(load_layer())
    except Exception:  # completion must never print a traceback into the shell
        return []
    return [w for w in words if w.startswith(incomplete.lower())]


def _print_catalog(ctx: typer.Context, json_output: bool) -> None:
    from sophia_cli.core.bi.catalog import catalog
    from sophia_cli.core.bi.semantic import layer_for

    found = catalog(layer_for(settings(ctx)))
    if wants_json(ctx, json_output):
        output.emit_json(found)
        return
    rows = [[m.label, m.source, m.dated_by, ", ".join(m.dimensions)] for m in found.metrics]
    output.stdout().print(output.table("Metrics", ["metric", "source", "dated by", "by"], rows))
    dims = [[d.label, ", ".join(d.synonyms[:6])] for d in found.dimensions]
    output.stdout().print(output.table("Dimensions", ["dimension", "also called"], dims))
    output.say("Examples:\n" + "\n".join(f'  sophia ask "{q}"' for q in found.examples))


def _write_result(ctx: typer.Context, fmt: output.Format, answer: Any) -> None:
    """The full result (every row, headers in words) as CSV, TSV or JSON on stdout."""
    from sophia_cli.core.bi import export
    from sophia_cli.core.bi.semantic import layer_for

    layer = layer_for(settings(ctx))
    if fmt is output.Format.JSON:
        sys.stdout.write(export.records(layer, answer))
        return
    sys.stdout.write(export.delimited(layer, answer, "\t" if fmt is output.Format.TSV else ","))


def ask_command(
    ctx: typer.Context,
    question: Annotated[
        str | None,
        typer.Argument(help="The question, in plain language.", autocompletion=_complete_question),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Pin 'today' (YYYY-MM-DD) for reproducible dates.")
    ] = None,
    show_sql: Annotated[bool, typer.Option("--sql", help="Also print the SQL that ran.")] = False,
    chart: Annotated[
        bool, typer.Option("--chart/--no-chart", help="Draw series and rankings in the terminal.")
    ] = True,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore cached answers.")] = False,
    allow_llm_sql: Annotated[
        bool,
        typer.Option(
            "--allow-llm-sql",
            help="Let the LLM write guarded SQL for questions outside the semantic layer.",
        ),
    ] = False,  # fmt: skip
    list_catalog: Annotated[
        bool, typer.Option("--list", help="List the metrics, dimensions and example questions.")
    ] = False,
    fmt: Annotated[
        output.Format | None,
        typer.Option(
            "--format",
            help="table, csv, tsv or json: csv/tsv/json write every row.",
            case_sensitive=False,
        ),
    ] = None,  # fmt: skip
    as_csv: Annotated[bool, typer.Option("--csv", help="Shorthand for --format csv.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Answer a business question over the synced data.

    Metrics (won revenue, win rate, pipeline value, deals won, open tasks, overdue tasks,
    Slack messages, active users, calls, call minutes…), breakdowns ("by owner", "by month"),
    filters by real names ("for Acme Corp", "in #sales", "owned by Dana"), rankings ("top 5")
    and time phrases ("last quarter", "Q3 2025", "past 30 days", "since January", "YTD") come
    from the semantic layer (README "ask"; extend it with SOPHIA_SEMANTIC_FILE). So do
    comparisons ("vs last quarter", "YoY"), thresholds ("deals over 50k"), exclusions, shares
    and lists ("list the deals we lost last week"). A word that cannot be placed makes it
    refuse: questions outside the layer exit 3 with the nearest answerable questions.
    `sophia ask --list` shows what can be asked.

    Example: sophia ask "won revenue by owner last quarter" --as-of 2026-07-15
    """
    from sophia_cli.core.bi.ask import ask

    if list_catalog:
        _print_catalog(ctx, json_output or fmt is output.Format.JSON)
        return
    if question is None:
        raise UsageError("ask needs a question", hint='Try: sophia ask "won revenue last quarter"'
                         " (sophia ask --list shows what can be asked).")  # fmt: skip
    answer = ask(settings(ctx), question, _date(as_of, "--as-of"),
                 allow_llm_sql=allow_llm_sql, use_cache=not no_cache)  # fmt: skip
    if wants_json(ctx, json_output) or (fmt is output.Format.JSON and json_output):
        output.emit_json(answer)
        return
    chosen = output.Format.CSV if as_csv else fmt
    if chosen is not None and chosen is not output.Format.TABLE:
        _write_result(ctx, chosen, answer)
        return
    output.choose(chosen)  # `--format table` draws the table even into a pipe
    console = output.stdout()
    has_table = bool(answer.rows) and (len(answer.rows) > 1 or len(answer.columns) > 1)
    # Piped, stdout carries the rows alone (headers first); the rest is for people.
    piped = output.table(None, [], []).format_for(console) is not output.Format.TABLE
    people = output.stderr() if piped and has_table else console
    people.print(f"[bold]{escape(answer.answer)}[/]", soft_wrap=True)
    interp = answer.interpretation
    understood = _understood(interp, answer.source)
    people.print(f"[dim]{escape(understood)}[/]", soft_wrap=True)
    notes = [interp.note] if interp.kind == "search" and interp.note else []
    for note in interp.notes if interp.kind != "search" else notes:
        people.print(f"[dim]note: {escape(note)}[/]", soft_wrap=True)
    shown = answer.rows
    if has_table:
        shown = _rows_table(answer.columns, answer.rows)
    drawn = _chart(interp, answer.columns, shown) if chart else None
    if drawn and not piped:
        sys.stdout.write(drawn + "\n")
    fresh = interp.freshness if interp.kind == "semantic" else {}
    for source, when in fresh.items():
        people.print(f"[dim]{source}: last synced {when or 'never'}[/]")
    if show_sql and answer.sql:
        people.print(escape(answer.sql), highlight=False)


def _understood(interp: Interpretation, source: str) -> str:
    """The interpretation in one line: what was asked, in the parts it was read as."""
    if interp.kind == "search":
        return f"understood as: search for {interp.search!r} ({interp.mode}, {source})"
    if interp.kind == "model_sql":
        return f"understood as: SQL written by the model, checked by the guard only ({source})"
    parts = ["metric " + ", ".join(m.label for m in interp.metrics)]
    if interp.dimensions:
        parts.append("by " + ", ".join(interp.dimensions))
    if interp.grain:
        parts.append(f"per {interp.grain}")
    parts += interp.conditions
    if interp.time_range:
        parts.append(f"{interp.time_range.phrase}: {interp.time_range.dates}")
    if interp.compare_to:
        parts.append(f"compared with {interp.compare_to.phrase}: {interp.compare_to.dates}")
    if interp.share:
        parts.append("as a share of the whole")
    if interp.shape() == "list":
        parts.append("listing the rows")
    if (interp.time_range or interp.grain) and interp.dated_by:
        parts.append(f"dated by {interp.dated_by}")
    if interp.order:
        parts.append(f"{'top' if interp.order.desc else 'bottom'} {interp.limit or ''}".strip())
    return f"understood as: {'; '.join(parts)} ({source})"


def query_command(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help="One SELECT over the synced tables; '-' reads stdin.")],
    limit: Annotated[
        int | None, typer.Option("--limit", help="Most rows to return (capped by ASK_ROW_LIMIT).")
    ] = None,
    json_output: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """Run one read-only SELECT through the SQL guard.

    One statement, SELECT or UNION at the root, known tables only, allowed functions and
    types only, no writes or DDL anywhere; it runs in a READ ONLY transaction with a
    statement timeout, capped at ASK_ROW_LIMIT rows and ASK_MAX_RESULT_BYTES bytes.

    Example: sophia query "SELECT stage, count(*) FROM hubspot.deals GROUP BY 1"
    """
    from sophia_cli.core.bi.execute import run_query

    text = sys.stdin.read() if sql == "-" else sql
    result = run_query(settings(ctx), text, limit=limit)
    if listing_json(ctx, json_output, fmt):
        output.emit_json(result)
        return
    _rows_table(result.columns, result.rows)
    note = f" (truncated: {result.truncated_by} limit)" if result.truncated else ""
    output.say(f"{result.row_count} row(s){note} in {result.elapsed_ms:.0f} ms")
