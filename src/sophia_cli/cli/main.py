"""The root `sophia` app: global options, command groups, and error handling in one place."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from sophia_cli import __version__
from sophia_cli.cli import (
    ask,
    db,
    demo,
    deploy,
    doctor,
    env,
    mcp,
    migrate,
    sandbox,
    search,
    secrets,
    serve,
    squad,
    sync,
    token,
)
from sophia_cli.cli.errors import flush, render_error, render_unexpected
from sophia_cli.cli.state import AppState
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


# Help panels, in the order of DESIGN.md's jobs table.
_CONFIG = "Configuration and migration"
_DATA = "Data and questions"
_OPS = "Operations"

app.add_typer(env.app, name="env", rich_help_panel=_CONFIG)
app.add_typer(secrets.app, name="secrets", rich_help_panel=_CONFIG)
app.add_typer(migrate.app, name="migrate", rich_help_panel=_CONFIG)
app.add_typer(squad.app, name="squad", rich_help_panel=_DATA)
app.add_typer(sync.app, name="sync", rich_help_panel=_DATA)
app.add_typer(db.app, name="db", rich_help_panel=_DATA)
app.command("ask", rich_help_panel=_DATA)(ask.ask_command)
app.command("query", rich_help_panel=_DATA)(ask.query_command)
app.command("search", rich_help_panel=_DATA)(search.search_command)
app.command("demo", rich_help_panel=_DATA)(demo.demo)
app.add_typer(sandbox.app, name="sandbox", rich_help_panel=_DATA)
app.add_typer(doctor.app, name="doctor", rich_help_panel=_OPS)
app.command("serve", rich_help_panel=_OPS)(serve.serve)
app.add_typer(token.app, name="token", rich_help_panel=_OPS)
app.add_typer(deploy.app, name="deploy", rich_help_panel=_OPS)
app.command("mcp", rich_help_panel=_OPS)(mcp.mcp)


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
