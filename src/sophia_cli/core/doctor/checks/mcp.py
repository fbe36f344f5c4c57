"""MCP context servers the platform runs beside the API."""

from __future__ import annotations

from urllib.parse import urlsplit

from sophia_cli.core.doctor.checks.ports import is_listening
from sophia_cli.core.doctor.models import Outcome, fail, ok, warn
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.settings import Settings


def _endpoints(settings: Settings) -> list[tuple[str, int]]:
    endpoints = []
    for raw in settings.mcp_context_urls.split(","):
        parts = urlsplit(raw.strip())
        if parts.hostname and parts.port:
            endpoints.append((parts.hostname, parts.port))
    return endpoints


@check("mcp-servers", "mcp", timeout_s=3.0, required=False)
def mcp_servers(settings: Settings) -> Outcome:
    """Each configured MCP server accepts connections; unconfigured defaults only warn."""
    endpoints = _endpoints(settings)
    if not endpoints:
        return ok("no MCP context servers configured")
    down = [f"{host}:{port}" for host, port in endpoints if not is_listening(port, host)]
    if not down:
        return ok(f"all {len(endpoints)} MCP servers reachable")
    default = Settings.model_fields["mcp_context_urls"].default
    message = f"{len(down)}/{len(endpoints)} MCP servers unreachable: {', '.join(down)}"
    if settings.mcp_context_urls == default:
        return warn(message + " (defaults; set MCP_CONTEXT_URLS to the ones you run)")
    return fail(message)
