"""`sophia mcp`: sophia's tools over the Model Context Protocol on stdio."""

from __future__ import annotations

import typer

from sophia_cli.cli.state import settings


def mcp(ctx: typer.Context) -> None:
    """Serve sophia's tools over the Model Context Protocol on stdio (for MCP clients).

    Tools: ask, search, sync_status, doctor, squad_budget. Configure an MCP client to run
    the command `sophia mcp` (stdout carries the protocol; logs go to stderr).

    Example: sophia mcp
    """
    from sophia_cli.server.mcp_server import serve_stdio

    serve_stdio(settings(ctx))
