"""The root `sophia` app: global options, command groups, and error handling in one place."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from sophia_cli import __version__
from sophia_cli.cli import db, deploy, doctor, env, mcp, migrate, serve, token
from sophia_cli.cli.errors import flush, render_error, render_unexpected
from sophia_cli.cli.state import AppState
from sophia_cli.cli.unavailable import register_unavailable
from sophia_cli.core.errors import ExitCode, SophiaError

app = typer.Typer(
    name="sophia",
    help=(
        "Operations and insights for the BI platform: configuration, migrations, LLM routing, "
        "data sync, the warehouse, questions in plain language, health checks and the API."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"sophia {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON on stdout (also accepted per command).")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    env_file: Annotated[
        Path | None,
        typer.Option("--env-file", help="Read settings from this env file (the environment wins)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    ctx.obj = AppState(json=json_output, debug=debug, env_file=env_file)


app.add_typer(db.app, name="db")
app.add_typer(doctor.app, name="doctor")
app.add_typer(env.app, name="env")
app.add_typer(migrate.app, name="migrate")
register_unavailable(app, "squad", "Route LLM calls to the cheapest capable model, within budget.")
register_unavailable(app, "sync", "Pull Slack, Asana, HubSpot and Gong into PostgreSQL.")
register_unavailable(app, "ask", "Answer business questions in plain language.")
app.command("serve", help="Serve the same functions over HTTP on port 8000.")(serve.serve)
app.add_typer(token.app, name="token")
app.add_typer(deploy.app, name="deploy")
app.command("mcp", help="Serve sophia's tools over the Model Context Protocol (stdio).")(mcp.mcp)


def _flag_given(args: Sequence[str], flag: str) -> bool:
    """Whether a flag appears before any `--` separator (errors can precede parsing)."""
    for arg in args:
        if arg == "--":
            return False
        if arg == flag:
            return True
    return False


def run(args: Sequence[str]) -> int:
    """Run the app on `args` and return the exit code; all error handling lives here."""
    as_json = _flag_given(args, "--json")
    debug = _flag_given(args, "--debug")
    command = typer.main.get_command(app)
    try:
        result = command.main(args=list(args), prog_name="sophia", standalone_mode=False)
    except SophiaError as exc:
        if debug:
            raise
        render_error(exc, as_json=as_json)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return ExitCode.FAILURE
    except typer.TyperException as exc:  # usage errors from argument parsing
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc.format_message()}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return 130
    except BrokenPipeError:
        return ExitCode.OK
    except Exception as exc:
        if debug:
            raise
        render_unexpected(exc, as_json=as_json)
        return ExitCode.FAILURE
    finally:
        flush()
    return result if isinstance(result, int) else ExitCode.OK


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:] if argv is None else argv))
