"""`sophia demo`: sync a realistic sandbox company into the warehouse, then try things."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Annotated

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import JsonOption
from sophia_cli.cli.state import settings, wants_json
from sophia_cli.cli.sync import ProgressView, print_report, summary


def demo(
    ctx: typer.Context,
    scale: Annotated[
        float, typer.Option("--scale", help="Size of the sandbox company (1.0 ≈ 3,000 deals).")
    ] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generated data.")] = 7,
    json_output: JsonOption = False,
) -> None:
    """Set up the warehouse and sync the sandbox's Slack, Asana, HubSpot and Gong into it.

    Non-interactive: uses DATABASE_URL when set, else the embedded PostgreSQL; starts
    the sandbox APIs in-process, runs the real `sophia sync` against them, stops them.

    Example: sophia demo
    """
    from sophia_cli.core.sync.demo import run_demo
    from sophia_cli.sandbox.api.app import start_sandbox

    as_json = wants_json(ctx, json_output)
    if not as_json:
        output.say(f"sophia demo: syncing the sandbox company (seed {seed}, scale {scale:g})…")
    view = ProgressView() if not as_json and sys.stderr.isatty() else None
    with (
        start_sandbox(seed=seed, scale=scale, rate_limits="off") as sandbox,
        view.progress if view is not None else nullcontext(),
    ):
        report = run_demo(
            settings(ctx), sandbox.env, sandbox.base_url, seed=seed, scale=scale, progress=view
        )
    if as_json:
        output.emit_json({**report.model_dump(mode="json"), "sync": summary(report.sync)})
        raise typer.Exit(0 if report.sync.ok else 1)
    print_report(report.sync)
    totals = report.sync.totals
    output.say(
        f"{totals['inserted']} rows loaded into {report.database} "
        f"(sandbox {report.sandbox_url}, now stopped). Try next:"
    )
    for step in report.next_steps:
        output.say(f"  {step}")
    raise typer.Exit(0 if report.sync.ok else 1)
