"""`sophia sandbox`: fake Slack, Asana, HubSpot and Gong APIs on 127.0.0.1 for syncs and tests."""

from __future__ import annotations

import shlex
import sys
from datetime import date
from typing import Annotated, Any

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import JsonOption
from sophia_cli.cli.state import wants_json
from sophia_cli.core.errors import ConflictError, UsageError

# The server modules import Starlette and uvicorn: only inside the commands that serve.

app = typer.Typer(
    help="Serve a deterministic fake company over the Slack, Asana, HubSpot and Gong APIs.",
    no_args_is_help=True,
)
PortOption = Annotated[int, typer.Option("--port", "-p", help="The sandbox's port on 127.0.0.1.")]
HostOption = Annotated[str, typer.Option("--host", help="Where the sandbox runs.")]


@app.command()
def serve(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port on 127.0.0.1 (0 = any free).")
    ] = 8765,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same company.")] = 7,
    scale: Annotated[
        float, typer.Option("--scale", help="Size: 1.0 ≈ 3,000 deals; 0.1 for quick runs.")
    ] = 1.0,
    rate_limits: Annotated[
        str,
        typer.Option(
            "--rate-limits",
            help="real: published limits; fast: tiny windows (429 storms); off: none.",
        ),
    ] = "off",
    today: Annotated[
        str | None,
        typer.Option(
            "--today", help="Pin the dataset's 'today' (YYYY-MM-DD); default: today in UTC."
        ),
    ] = None,
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario", help="default, or hubspot_bulk_import (10,500 contacts on one timestamp)."
        ),
    ] = "default",
    slack_regime: Annotated[
        str,
        typer.Option(
            "--slack-regime",
            help="internal (Tier 3, 50/min) or limited (non-Marketplace app: 1/min, 15 per page "
            "on conversations.history/replies).",
        ),
    ] = "internal",
    slack_minute_s: Annotated[
        float,
        typer.Option(
            "--slack-minute-s",
            help="Seconds one Slack rate-limit minute lasts here (compress time; exported).",
        ),
    ] = 60.0,
    churn_per_page: Annotated[
        int,
        typer.Option(
            "--churn-per-page",
            help="Records modified after every HubSpot search or Asana task page served.",
        ),
    ] = 0,
    hubspot_index_lag: Annotated[
        float,
        typer.Option(
            "--hubspot-index-lag",
            help="Seconds (at most) before a HubSpot write shows in search, drawn per write.",
        ),
    ] = 0.0,
    slack_external_users: Annotated[
        int,
        typer.Option(
            "--slack-external-users",
            help="Slack Connect guests from a partner workspace, one message each (0: none, "
            "as in the demo).",
        ),
    ] = 0,
    json_output: JsonOption = False,
) -> None:
    """Serve the fake APIs until Ctrl-C; stdout first gets the `export` lines to sync against it.

    Example: sophia sandbox serve --scale 0.1 > sandbox.env &  then  . ./sandbox.env && sophia sync
    """
    from sophia_cli.sandbox.api.app import SandboxHandle
    from sophia_cli.sandbox.state import Sandbox

    if rate_limits not in ("real", "fast", "off"):
        raise UsageError(f"--rate-limits {rate_limits!r} is not one of real, fast, off")
    if slack_regime not in ("internal", "limited"):
        raise UsageError(f"--slack-regime {slack_regime!r} is not one of internal, limited")
    if not slack_minute_s > 0:
        raise UsageError("--slack-minute-s must be above 0")
    if scenario not in ("default", "hubspot_bulk_import"):
        raise UsageError(f"--scenario {scenario!r} is not one of default, hubspot_bulk_import")
    from sophia_cli.sandbox.dataset import MAX_SCALE

    if not 0 < scale <= MAX_SCALE:  # checked before any export line is printed
        raise UsageError(f"--scale must be above 0 and at most {MAX_SCALE:g}")
    pinned = _parse_day(today)
    from sophia_cli.sandbox.adversity import Adversities

    if churn_per_page < 0 or hubspot_index_lag < 0 or slack_external_users < 0:
        raise UsageError(
            "--churn-per-page, --hubspot-index-lag and --slack-external-users cannot be negative",
            hint="Pass 0 (off) or a positive number.",
        )
    adversities = Adversities(churn_per_page, hubspot_index_lag)
    sandbox = Sandbox(
        seed=seed,
        scale=scale,
        today=pinned,
        scenario=scenario,  # type: ignore[arg-type]  # checked above
        rate_limits=rate_limits,  # type: ignore[arg-type]  # checked above
        slack_regime=slack_regime,  # type: ignore[arg-type]  # checked above
        slack_minute_s=slack_minute_s,
        adversities=adversities,
        slack_external_users=slack_external_users,
    )
    try:
        handle = SandboxHandle(sandbox, port)
    except OSError as exc:
        raise ConflictError(
            f"port {port} on 127.0.0.1 is not free ({exc.strerror})",
            hint="Pick another --port, or --port 0 for any free port.",
        ) from exc
    if wants_json(ctx, json_output):
        output.emit_json(handle.env)
    else:
        sys.stdout.write("".join(f"export {k}={shlex.quote(v)}\n" for k, v in handle.env.items()))
        sys.stdout.flush()
    output.say(
        f"sandbox: seed {seed}, scale {scale:g}, today {sandbox.today}, rate limits "
        f"{rate_limits}, Slack regime {slack_regime}; serving on {handle.base_url} (Ctrl-C to stop)"
    )
    try:
        handle.serve()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; stopping is the goal
        pass
    output.say("sandbox stopped")


@app.command()
def mutate(
    ctx: typer.Context,
    port: PortOption = 8765,
    host: HostOption = "127.0.0.1",
    count: Annotated[int, typer.Option("--count", "-n", help="How many mutations to apply.")] = 1,
    json_output: JsonOption = False,
) -> None:
    """Change the running sandbox's data (update, add, archive, delete) and print what changed.

    Example: sophia sandbox mutate --port 8765
    """
    from sophia_cli.sandbox import control

    if not 1 <= count <= 100:
        raise UsageError("--count must be between 1 and 100")
    result = control.mutate(host, port, count)
    if wants_json(ctx, json_output):
        output.emit_json(result)
        return
    for change in result["mutations"]:
        output.stdout().print(
            output.table(
                f"mutation {change['mutation']} at {change['at']}",
                ["table", "updated", "added", "archived", "deleted"],
                _change_rows(change),
            )
        )


@app.command()
def counts(
    ctx: typer.Context,
    port: PortOption = 8765,
    host: HostOption = "127.0.0.1",
    json_output: JsonOption = False,
) -> None:
    """Print the rows a correct full sync of the running sandbox must hold, per table.

    Example: sophia sandbox counts --port 8765 --json
    """
    from sophia_cli.sandbox import control

    data = control.counts(host, port)
    if wants_json(ctx, json_output):
        output.emit_json(data)
        return
    rows = [
        [table, n, data["archived"].get(table, ""), len(data["deleted"].get(table, []))]
        for table, n in data["tables"].items()
    ]
    output.stdout().print(output.table(None, ["table", "rows", "archived", "deleted"], rows))


def _change_rows(change: dict[str, Any]) -> list[list[Any]]:
    """Table rows (counts per kind) of one mutation's change set."""
    return [
        [
            table,
            len(kinds["updated"]),
            len(kinds["added"]),
            len(kinds["archived"]),
            len(kinds["deleted"]),
        ]
        for table, kinds in change["changes"].items()
        if any(kinds.values())
    ]


def _parse_day(raw: str | None) -> date | None:
    """--today as a date, or a usage error."""
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise UsageError(f"--today {raw!r} is not a date (YYYY-MM-DD)") from exc
