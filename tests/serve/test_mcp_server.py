"""`sophia mcp`: a real MCP client over stdio lists and calls sophia's tools."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from sophia_cli.core.settings import Settings

TOOLS = {"ask", "search", "sync_status", "doctor", "squad_budget"}


def _session(env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> Any:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "sophia_cli", "mcp"],
        env={**env, "SOPHIA_HOME": os.environ["SOPHIA_HOME"], "PATH": os.environ["PATH"]},
    )

    async def run() -> tuple[set[str], list[Any]]:
        async with Client(params, read_timeout_seconds=60) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            results = [await client.call_tool(name, arguments) for name, arguments in calls]
            return tools, results

    return anyio.run(run)


def _json(result: Any) -> Any:
    return json.loads(result.content[0].text)


def test_mcp_lists_and_calls_every_tool(api_settings: Settings, stores_env: dict[str, str]) -> None:
    tools, results = _session(
        stores_env,
        [
            ("doctor", {}),
            ("squad_budget", {}),
            ("sync_status", {}),
            ("search", {"text": "pricing", "limit": 3}),
            ("ask", {"question": "how many open deals", "as_of": "2026-07-15"}),
        ],
    )
    assert tools == TOOLS
    doctor, budget, sync, search, ask = results
    assert not doctor.is_error and "postgres" in {c["name"] for c in _json(doctor)["checks"]}
    assert not budget.is_error and _json(budget)["budget_usd"] == 100.0
    assert not sync.is_error
    assert not search.is_error and _json(search)["hits"] == []
    # An empty warehouse: ask refuses rather than answer 0 from a source never synced.
    assert ask.is_error and "sophia sync" in ask.content[0].text


def test_mcp_tool_errors_carry_the_message_and_hint(
    api_settings: Settings, stores_env: dict[str, str]
) -> None:
    _tools, (bad_day, unknown) = _session(
        stores_env,
        [
            ("ask", {"question": "won revenue", "as_of": "someday"}),
            ("search", {"text": "x", "source": "myspace"}),
        ],
    )
    assert bad_day.is_error and "YYYY-MM-DD" in bad_day.content[0].text
    assert unknown.is_error and "myspace" in unknown.content[0].text
