"""`sophia doctor`: one health check of everything, for humans and for CI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sophia_cli.cli import completion, output
from sophia_cli.cli.output import JsonOption, escape
from sophia_cli.cli.state import state, wants_json

if TYPE_CHECKING:
    from sophia_cli.core.doctor.models import DoctorReport

app = typer.Typer(help="Check the health of configuration, stores, ports and services.")


@app.callback(invoke_without_command=True)
def doctor(
    ctx: typer.Context,
    json_output: JsonOption = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write a JUnit XML report to this file.")
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            "-c",
            help="Only run checks of this category (repeatable).",
            autocompletion=completion.complete_categories,
        ),
    ] = None,
) -> None:
    """Run every check concurrently, each with a timeout; exit 1 if any failed.

    Example: sophia doctor --json --junit doctor.xml
    """
    from sophia_cli.core.doctor.junit import render_junit
    from sophia_cli.core.doctor.runner import run_checks

    # An unreadable secret reference is reported by the env check, not raised before it.
    loaded = state(ctx).settings(require_references=False)
    report = run_checks(loaded, categories=set(category) if category else None)
    if junit is not None:
        junit.write_text(render_junit(report), encoding="utf-8")
    if wants_json(ctx, json_output):
        output.emit_json(report)
    else:
        _print_report(report)
    raise typer.Exit(report.exit_code)


def _print_report(report: DoctorReport) -> None:
    console = output.stdout()
    categories = list(dict.fromkeys(result.category for result in report.checks))
    for category in categories:
        console.print(f"[bold]{category}[/]")
        for result in (r for r in report.checks if r.category == category):
            mark = output.STATUS_MARKS[result.status.value]
            console.print(
                f"  {mark} {result.name:<16} {escape(result.detail)} "
                f"[dim]({result.duration_ms} ms)[/]",
                highlight=False,
                soft_wrap=True,
            )
    s = report.summary
    verdict = "[green]healthy[/]" if s.healthy else "[red]unhealthy[/]"
    console.print(
        f"{verdict}: {s.ok} ok, {s.warn} warnings, {s.fail} failed, {s.skip} skipped "
        f"in {s.duration_ms} ms"
    )
