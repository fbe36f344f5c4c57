"""`sophia ask`, `sophia query` and `sophia search`: questions, guarded SQL, full-text search."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape

from sophia_cli.cli import output
from sophia_cli.cli.output import FormatOption, JsonOption
from sophia_cli.cli.state import listing_json, settings, wants_json
from sophia_cli.core.errors import UsageError

TABLE_ROWS = 25


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{option} {value!r} is not a date", hint="Use YYYY-MM-DD.") from exc


def _rows_table(columns: list[str], rows: list[list[Any]]) -> None:
    """Every returned row for pipes and --format; a terminal table shows the first ones."""
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


def _chart(interp: dict[str, Any], columns: list[str], rows: list[list[Any]]) -> str | None:
    """A terminal chart for a time series or a one-dimension ranking."""
    from sophia_cli.cli.chart import bars

    width = len(interp.get("dimensions") or []) + (1 if interp.get("grain") else 0)
    if width != 1 or len(rows) < 2 or len(columns) <= width:
        return None
    numeric = [row[1] if isinstance(row[1], int | float) else 0.0 for row in rows]
    labels = ["(none)" if row[0] is None else str(row[0]) for row in rows]
    shown = [f"{v:,.2f}".rstrip("0").rstrip(".") for v in numeric]
    return bars(f"{columns[1]} by {columns[0]}", labels, numeric, shown)


def ask_command(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, in plain language.")],
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
    json_output: JsonOption = False,
) -> None:
    """Answer a business question over the synced data.

    Metrics (won revenue, win rate, pipeline value, deals won, open tasks, overdue tasks,
    Slack messages, active users, calls, call minutes…), breakdowns ("by owner", "by month"),
    filters by real names ("for Acme Corp", "in #sales", "owned by Dana"), rankings ("top 5")
    and time phrases ("last quarter", "Q3 2025", "past 30 days", "since January", "YTD") come
    from the semantic layer (README "ask"; extend it with SOPHIA_SEMANTIC_FILE). Questions
    outside it exit 3 with the nearest answerable questions.

    Example: sophia ask "won revenue by owner last quarter" --as-of 2026-07-15
    """
    from sophia_cli.core.bi.ask import ask

    answer = ask(settings(ctx), question, _date(as_of, "--as-of"),
                 allow_llm_sql=allow_llm_sql, use_cache=not no_cache)  # fmt: skip
    if wants_json(ctx, json_output):
        output.emit_json(answer)
        return
    console = output.stdout()
    console.print(f"[bold]{escape(answer.answer)}[/]", soft_wrap=True)
    understood = _understood(answer.interpretation, answer.source)
    console.print(f"[dim]{escape(understood)}[/]", soft_wrap=True)
    for note in answer.interpretation.get("notes") or []:
        console.print(f"[dim]note: {escape(note)}[/]", soft_wrap=True)
    if answer.rows and (len(answer.rows) > 1 or len(answer.columns) > 1):
        _rows_table(answer.columns, answer.rows)
    drawn = _chart(answer.interpretation, answer.columns, answer.rows) if chart else None
    if drawn:
        sys.stdout.write(drawn + "\n")
    fresh = answer.interpretation.get("freshness") or {}
    for source, when in fresh.items():
        console.print(f"[dim]{source}: last synced {when or 'never'}[/]")
    if show_sql and answer.sql:
        console.print(escape(answer.sql), highlight=False)


def _understood(interp: dict[str, Any], source: str) -> str:
    if "search" in interp:
        return f"understood as: search for {interp['search']!r} ({interp.get('mode')}, {source})"
    parts = ["metric " + ", ".join(m["label"] for m in interp.get("metrics", []))]
    if interp.get("dimensions"):
        parts.append("by " + ", ".join(interp["dimensions"]))
    if interp.get("grain"):
        parts.append(f"per {interp['grain']}")
    parts += interp.get("conditions") or [
        f"{f['dimension']} = {' or '.join(f['values'])}" for f in interp.get("filters", [])
    ]
    if interp.get("time_range"):
        parts.append(f"{interp['time_range']['phrase']}: {interp['time_range']['dates']}")
    if interp.get("compare_to"):
        then = interp["compare_to"]
        parts.append(f"compared with {then['phrase']}: {then['dates']}")
    if interp.get("share"):
        parts.append("as a share of the whole")
    if interp.get("list"):
        parts.append("listing the rows")
    if (interp.get("time_range") or interp.get("grain")) and interp.get("dated_by"):
        parts.append(f"dated by {interp['dated_by']}")
    if interp.get("order"):
        way = "top" if interp["order"]["desc"] else "bottom"
        parts.append(f"{way} {interp.get('limit') or ''}".strip())
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
