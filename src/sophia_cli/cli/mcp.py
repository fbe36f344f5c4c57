"""`sophia mcp`: sophia's tools over the Model Context Protocol on stdio."""

from __future__ import annotations

import typer


def mcp(ctx: typer.Context) -> None:
    """Serve ask, search, sync status, doctor and squad budget to MCP clients on stdio.

    Example: sophia mcp
    """
    raise NotImplementedError
