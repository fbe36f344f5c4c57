"""`sophia mcp`: sophia's tools over the Model Context Protocol on stdio."""

from __future__ import annotations

import sys

import typer

from sophia_cli.cli.state import settings
from sophia_cli.core.errors import UsageError


def mcp(ctx: typer.Context) -> None:
    """Serve sophia's tools over the Model Context Protocol on stdio (for MCP clients).

    Tools: ask, search, sync_status, doctor, squad_budget. Configure an MCP client to run
    the command `sophia mcp` (stdout carries the protocol; logs go to stderr).

    Example: sophia mcp
    """
    if sys.stdin.isatty():
        # Nothing would ever arrive (the protocol is JSON-RPC from a client), and the stdio
        # reader would sit through Ctrl-C: say what the command is for instead.
        raise UsageError(
            "sophia mcp talks the Model Context Protocol over a pipe, not to a terminal",
            hint="Add `sophia mcp` as a stdio server in your MCP client; it starts the command.",
        )
    from sophia_cli.server.mcp_server import serve_stdio

    serve_stdio(settings(ctx))
