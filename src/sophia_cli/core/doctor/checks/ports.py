"""Ports: is the unified API port free or ours, and is the legacy port still answering?"""

from __future__ import annotations

import socket

import httpx

from sophia_cli.core.doctor.models import Outcome, ok, warn
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.settings import Settings

_PROBE_TIMEOUT_S = 1.0


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def is_sophia(port: int, host: str = "127.0.0.1") -> bool:
    """True when the listener answers /health as sophia does."""
    try:
        response = httpx.get(f"http://{host}:{port}/health", timeout=_PROBE_TIMEOUT_S)
    except httpx.HTTPError:
        return False
    served_by: str = response.headers.get("x-served-by", "")
    return served_by.startswith("sophia")


@check("api-port", "ports", timeout_s=3.0, required=False)
def api_port(settings: Settings) -> Outcome:
    """The unified API port must be free or held by sophia."""
    port = settings.sophia_port
    if not is_listening(port):
        return ok(f"port {port} is free")
    if is_sophia(port):
        return ok(f"port {port} is held by sophia serve")
    return warn(f"port {port} is held by another program; `sophia serve` cannot bind it")


@check("legacy-port", "ports", timeout_s=3.0, required=False)
def legacy_port(settings: Settings) -> Outcome:
    """The legacy Bridge port should be closed once the migration is done."""
    port = settings.sophia_legacy_port
    if is_listening(port):
        return warn(f"legacy port {port} is still listening; see `sophia migrate ports`")
    return ok(f"legacy port {port} is closed")
