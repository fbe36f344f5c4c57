"""A small client of a running sandbox's control API (what `sophia sandbox mutate` calls)."""

from __future__ import annotations

from typing import Any

import httpx

from sophia_cli.core.errors import ServiceUnavailableError, UsageError


def control_url(host: str, port: int) -> str:
    """The control API root of a sandbox on host:port."""
    return f"http://{host}:{port}/_sandbox"


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """One control request; a missing sandbox becomes ServiceUnavailableError."""
    try:
        response = httpx.request(method, url, json=body, timeout=60)
    except httpx.TransportError as exc:
        raise ServiceUnavailableError(
            f"no sandbox answers at {url.rsplit('/_sandbox', 1)[0]}",
            hint="Start one with `sophia sandbox serve --port PORT` and pass the same --port.",
        ) from exc
    if response.status_code == 404 and "/_sandbox" in url and "expected" not in url:
        raise ServiceUnavailableError(
            f"{url} is not a sophia sandbox", hint="Check --port: another server answered."
        )
    if response.status_code >= 400:
        raise UsageError(f"the sandbox refused the request: {response.text[:200]}")
    data = response.json()
    if not isinstance(data, dict):
        raise ServiceUnavailableError(f"{url} answered something that is not a sandbox reply")
    return data


def mutate(host: str, port: int, count: int = 1) -> dict[str, Any]:
    """Apply `count` mutations; returns the list of change sets (one per mutation)."""
    data = _call("POST", control_url(host, port) + "/mutate", {"count": count})
    results = data.get("mutations", [data])
    return {"mutations": results}


def counts(host: str, port: int) -> dict[str, Any]:
    """The rows a correct full sync must hold right now, per warehouse table."""
    return _call("GET", control_url(host, port) + "/counts")
