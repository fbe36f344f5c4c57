"""`sophia sync`: pull the declared sources into PostgreSQL, and show freshness."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from sophia_cli.cli import completion, output
from sophia_cli.cli.output import FormatOption, JsonOption, escape
from sophia_cli.cli.state import listing_json, settings, wants_json
from sophia_cli.core.sync.sources import NAMES, TITLES

if TYPE_CHECKING:
    from rich.console import Console

    from sophia_cli.core.sync.models import StreamResult, SyncReport, SyncStatus


class _RunByDefault(TyperGroup):
    """`sophia sync [SOURCE…]` runs a sync; `sophia sync status` is a subcommand."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault,
    help=f"Pull {TITLES} into PostgreSQL: incremental, idempotent, "
    "resumable. `sophia sync [SOURCE…]` runs a sync (the `run` command).",
)

_MARKS = {
    "success": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "skipped": "[dim]-[/]",
    "already_running": "[yellow]![/]",
    "running": "[yellow]…[/]",
    "abandoned": "[red]✗[/]",
    "partial": "[yellow]◐[/]",
}


class ProgressView:
    """Rich progress bars per stream on stderr (only when stderr is a terminal)."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.fields[rows]} rows, {task.fields[pages]} pages{task.fields[eta]}"),
            TimeElapsedColumn(),
            console=console or output.stderr(),
            transient=True,
        )
        self.tasks: dict[tuple[str, str], Any] = {}

    def __call__(self, result: StreamResult) -> None:
        key = (result.source, result.stream)
        if key not in self.tasks:
            self.tasks[key] = self.progress.add_task(
                f"{result.source}.{result.stream}", total=None, rows=0, pages=0, eta=""
            )
        rows = result.inserted + result.updated + result.deleted
        done = result.status != "running"
        eta = ""
        if not done and result.progress is not None and result.eta_s is not None:
            eta = f", {result.progress:.0%} done, about {_span(result.eta_s)} left (estimate)"
        self.progress.update(
            self.tasks[key],
            rows=rows,
            pages=result.pages,
            eta=eta,
            total=1 if done else None,
            completed=1 if done else 0,
        )


def summary(report: SyncReport) -> dict[str, Any]:
    """The report as JSON; `ok` and `totals` are the model's own computed fields."""
    return report.model_dump(mode="json")


def print_report(report: SyncReport) -> None:
    from sophia_cli.core.sync.models import RunStatus

    rows: list[list[Any]] = []
    for source in report.sources:
        if not source.streams:
            rows.append(
                [
                    f"{_MARKS[source.status]} {source.source}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    source.status.value,
                    escape(source.error or ""),
                ]
            )
        for s in source.streams:
            rows.append(
                [
                    f"{_MARKS[s.status]} {s.source}",
                    s.stream,
                    s.inserted,
                    s.updated,
                    s.deleted,
                    f"{s.duration_s:.1f}s",
                    s.status.value,
                    escape(s.error or "; ".join(s.notes)),
                ]
            )
            for table, counts in s.tables.items():  # other tables the stream fills
                rows.append(
                    ["", f"  + {table}", counts.inserted, counts.updated, counts.deleted]
                    + ["", "", ""]
                )
    title = "sync (dry run: nothing written)" if report.dry_run else None
    columns = ["source", "stream", "new", "updated", "deleted", "duration", "status", "detail"]
    output.stdout().print(output.table(title, columns, rows))
    for source in report.sources:
        if source.status is RunStatus.ALREADY_RUNNING:
            output.say(f"{source.source}: already running; nothing to do")
        elif source.hint and source.status is not RunStatus.SUCCESS:
            output.say(f"[dim]{escape(source.source)}: {escape(source.hint)}[/]")


@app.command("run")
def run(
    ctx: typer.Context,
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help=f"Sources to sync: {', '.join(NAMES)} (default: all).",
            autocompletion=completion.complete_sources,
        ),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Ignore bookmarks; re-read all.")] = False,
    since: Annotated[
        datetime | None,
        typer.Option("--since", formats=["%Y-%m-%d"], help="Re-read from this date (YYYY-MM-DD)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fetch and count, but write nothing.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait for a running sync of a source instead of skipping."),
    ] = False,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep",
            help="Also run the look-back sweep now (Slack: edits, deletes, late replies).",
        ),
    ] = False,
    max_duration: Annotated[
        str | None,
        typer.Option(
            "--max-duration",
            help="Stop at the first page boundary after this long (e.g. 50m); resumes next run.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Sync sources into the warehouse (all configured ones when none are named).

    Incremental from each stream's bookmark; safe to run from cron (a second run of the
    same source exits 0 with "already running"). Exit 1 when any source failed.

    Example: sophia sync slack hubspot --json
    """
    from sophia_cli.core.sync.run import run_sync

    as_json = wants_json(ctx, json_output)
    view = ProgressView() if not as_json and sys.stderr.isatty() else None
    if view is not None:
        with view.progress:
            report = run_sync(
                settings(ctx),
                sources,
                full=full,
                dry_run=dry_run,
                wait=wait,
                since=since.date() if since else None,
                sweep=sweep,
                max_duration=max_duration,
                progress=view,
            )
    else:
        report = run_sync(
            settings(ctx),
            sources,
            full=full,
            dry_run=dry_run,
            wait=wait,
            since=since.date() if since else None,
            sweep=sweep,
            max_duration=max_duration,
        )
    if as_json:
        output.emit_json(summary(report))
    else:
        print_report(report)
    raise typer.Exit(0 if report.ok else 1)


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _ago(seconds: float | None) -> str:
    return "never" if seconds is None else f"{_span(seconds)} ago"


def _print_status(status: SyncStatus) -> None:
    rows = [
        [
            s.source,
            s.stream,
            s.table,
            s.rows,
            _ago(s.lag_s),
            s.last_status.value if s.last_status else "",
            escape(s.last_error or ""),
        ]
        for s in status.streams
    ]
    columns = ["source", "stream", "table", "rows", "last success", "last run", "last error"]
    output.stdout().print(output.table(None, columns, rows))


@app.command("status")
def status(ctx: typer.Context, json_output: JsonOption = False, fmt: FormatOption = None) -> None:
    """Show per stream the last success, lag, rows in the warehouse and the last error.

    Example: sophia sync status --json
    """
    from sophia_cli.core.sync.status import sync_status

    report = sync_status(settings(ctx))
    if listing_json(ctx, json_output, fmt):
        output.emit_json(report)
    else:
        _print_status(report)
