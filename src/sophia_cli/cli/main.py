"""The root `sophia` app: global options, command groups, and error handling in one place."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from sophia_cli import __version__
from sophia_cli.cli import (
    ask,
    db,
    demo,
    deploy,
    doctor,
    env,
    global_options,
    mcp,
    migrate,
    output,
    sandbox,
    search,
    secrets,
    serve,
    squad,
    sync,
    token,
)
from sophia_cli.cli import help as help_text
from sophia_cli.cli.coercion import defer_coercion
from sophia_cli.cli.errors import explained, flush, render_error
from sophia_cli.cli.state import AppState
from sophia_cli.core.errors import ExitCode, SophiaError, UsageError

if TYPE_CHECKING:
    from typer._click import Command

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
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Project folder holding the .env.* files (default: found from the working "
            "folder upwards, like git).",
            file_okay=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    ctx.obj = AppState(json=json_output, debug=debug, env_file=env_file, directory=directory)


# Help panels, in the order of DESIGN.md's jobs table.
_CONFIG = "Configuration and migration"
_DATA = "Data and questions"
_OPS = "Operations"
help_text.PANEL_ORDER[:] = [_CONFIG, _DATA, _OPS]

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


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move `--json`, `--debug` and `--env-file X` to the root, wherever they were written.

    Users put them after the command (`sophia token issue … --json`), and every error hint
    says "run again with --debug": both must work. Nothing after `--` is touched, and a
    command's own `--json` still sees the flag through `wants_json`.
    """
    hoisted: list[str] = []
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--":
            rest += [arg, *items]
            break
        name = arg.split("=", 1)[0]
        if arg in global_options.SWITCHES:
            hoisted.append(arg)
        elif name in global_options.HOISTED_VALUED and "=" in arg:
            hoisted.append(arg)
        elif arg in global_options.HOISTED_VALUED:
            hoisted += [arg, *[value for value in [next(items, None)] if value is not None]]
        else:
            rest.append(arg)
    return [*hoisted, *rest]


def _usage_body(exc: typer.TyperException) -> UsageError:
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "sophia"
    return UsageError(exc.format_message(), hint=f"Run `{command} --help` for the arguments.")


def root_command() -> Command:
    """The Click command tree of `app`, with sophia's help and coercion patches applied.

    Built per run (tests change the app between runs); the warm worker builds it once.
    """
    command = help_text.tidy(typer.main.get_command(app))
    help_text.drop_flag_markers()
    defer_coercion()
    return command  # type: ignore[no-any-return]


def run(args: Sequence[str], command: Command | None = None) -> int:
    """Run the app on `args` and return the exit code; all error handling lives here."""
    args = hoist_global_options(args)
    output.choose(None)  # a previous in-process run's --format does not carry over
    as_json = "--json" in args
    debug = "--debug" in args
    command = root_command() if command is None else command
    try:
        result = command.main(args=args, prog_name="sophia", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return ExitCode.FAILURE
    except typer.TyperException as exc:  # usage errors from argument parsing
        show = getattr(exc, "show", None)
        if as_json or not callable(show):
            render_error(_usage_body(exc), as_json=as_json)
        else:
            show()
        return exc.exit_code
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()  # the reader (`| head`) has all it wanted: not a failure
        return ExitCode.OK
    except Exception as exc:
        if debug:
            raise
        error = explained(exc)
        if type(error) is SophiaError:  # nothing explains it: a bug worth tracking
            from sophia_cli.core import errortracking

            errortracking.capture(exc, command=" ".join(args[:2]))
        render_error(error, as_json=as_json)
        return int(error.exit_code)
    finally:
        flush()
        if "sentry_sdk" in sys.modules:
            from sophia_cli.core import errortracking

            errortracking.flush()
    return result if isinstance(result, int) else ExitCode.OK


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        target = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's capture): nothing will flush to a closed pipe
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, target)
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point."""
    sys.exit(run(sys.argv[1:] if argv is None else argv))
