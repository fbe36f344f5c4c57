"""Render errors: one line on stderr, or the JSON error body on stdout with --json."""

from __future__ import annotations

import sys

from sophia_cli.cli.output import emit_json, escape, stderr
from sophia_cli.core.errors import SophiaError


def render_error(error: SophiaError, *, as_json: bool) -> None:
    if as_json:
        emit_json(error.to_dict())
        return
    console = stderr()
    console.print(f"[bold red]error:[/] {escape(error.message)}", highlight=False)
    if error.hint:
        console.print(f"[dim]hint:[/] {escape(error.hint)}", highlight=False)


def explained(exc: BaseException) -> SophiaError:
    """What to tell the user about any failure: the same classification the server uses."""
    from sophia_cli.core.failures import explain

    found = explain(exc)
    if found is not None:
        return found
    from sophia_cli.core.errortracking import scrub_message

    return SophiaError(
        scrub_message(f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]),
        hint="Run again with --debug to see the traceback, and report it.",
    )


def flush() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.stderr.flush()
