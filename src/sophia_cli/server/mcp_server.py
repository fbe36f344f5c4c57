"""sophia's tools over the Model Context Protocol (official `mcp` SDK, stdio transport).

Each tool is a thin call into the same core functions as the CLI and the HTTP routes; it
returns their JSON. Core errors become MCP tool errors carrying the message and the hint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from sophia_cli import __version__
from sophia_cli.core.errors import InputError, SophiaError
from sophia_cli.core.settings import Settings


async def _call(function: Callable[[], BaseModel]) -> dict[str, Any]:
    """Run a blocking core call off the event loop; its model as JSON, errors as ToolError."""
    try:
        result = await anyio.to_thread.run_sync(function)
    except SophiaError as exc:
        raise ToolError(f"{exc.message} (hint: {exc.hint})") from exc
    return result.model_dump(mode="json")


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{name} must be YYYY-MM-DD, got {text!r}") from exc


def build_server(settings: Settings) -> MCPServer:
    """An MCP server exposing ask, search, sync status, doctor and squad budget."""
    server: MCPServer = MCPServer(
        name="sophia",
        version=__version__,
        instructions="Business answers from the warehouse, search over synced text, and the "
        "health, sync state and LLM budget of the sophia platform.",
    )

    @server.tool(description="Answer a business question in plain language (as `sophia ask`).")
    async def ask(question: str, as_of: str | None = None) -> dict[str, Any]:
        from sophia_cli.core.bi.ask import ask as ask_question

        return await _call(lambda: ask_question(settings, question, _day(as_of, "as_of")))

    @server.tool(description="Hybrid (BM25 + meaning) search over synced Slack, Gong and Asana "
                 "text; 'customers said' and 'last month' in the text become filters.")  # fmt: skip
    async def search(
        text: str,
        source: str | None = None,
        since: str | None = None,
        limit: int = 10,
        mode: str = "hybrid",
    ) -> dict[str, Any]:
        from sophia_cli.core.search.search import build_filters
        from sophia_cli.core.search.search import search as search_text

        return await _call(
            lambda: search_text(
                settings, text, mode=mode,  # type: ignore[arg-type]
                filters=build_filters(source=source, since=_day(since, "since")), limit=limit,
            )
        )  # fmt: skip

    @server.tool(description="Each source's sync bookmarks, last runs and row counts.")
    async def sync_status() -> dict[str, Any]:
        from sophia_cli.core.sync.status import sync_status as status

        return await _call(lambda: status(settings))

    @server.tool(description="Run every health check of configuration, stores and ports.")
    async def doctor() -> dict[str, Any]:
        from sophia_cli.core.doctor.runner import run_checks

        return await _call(lambda: run_checks(settings))

    @server.tool(description="Today's LLM spend, reservations and remaining budget.")
    async def squad_budget() -> dict[str, Any]:
        from sophia_cli.core.squad.budget import budget_status

        return await _call(lambda: budget_status(settings))

    return server


def serve_stdio(settings: Settings) -> None:
    """Serve on stdin/stdout until the client disconnects."""
    anyio.run(build_server(settings).run_stdio_async)
