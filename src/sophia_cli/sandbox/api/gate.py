"""The middleware in front of all four fakes: faults first, then rate limits, then the log."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sophia_cli.sandbox.ratelimit import buckets_for
from sophia_cli.sandbox.state import Sandbox

PREFIXES = {
    "slack": "/slack/api",
    "asana": "/asana/api/1.0",
    "hubspot": "/hubspot",
    "gong": "/gong",
}
FaultResponder = Callable[[str, int], Response]
Responders = Mapping[str, FaultResponder]
# A body that starts like JSON and stops: what a proxy cut-off looks like to a client.
MALFORMED = b'{"ok": true, "results": [{"id": "1", "properties": {"name": "tru'


def split_path(path: str) -> tuple[str, str] | None:
    """(api, path relative to its base) for a request path, or None for other paths."""
    for api, prefix in PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return api, path[len(prefix) :] or "/"
    return None


def _without_token(raw: bytes) -> str:
    """A query string for the log, minus Slack's legacy `token` argument."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k != "token"])


class GateMiddleware:
    """Applies scripted faults and rate limits, and logs every API request with its status.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware costs ~1.7 ms per request here.
    """

    def __init__(self, app: ASGIApp, sandbox: Sandbox, responders: Responders) -> None:
        self.app = app
        self.sandbox = sandbox
        self.responders = responders

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        where = split_path(scope["path"]) if scope["type"] == "http" else None
        if where is None:
            await self.app(scope, receive, send)
            return
        api, path = where
        started = time.time()
        status = [0]
        early = await self._refusal(api, path, started)
        if early is not None:
            status[0] = early.status_code
            await early(scope, receive, send)
        else:

            async def watch(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                    if api == "hubspot" and not path.endswith("/search"):
                        self._hubspot_headers(MutableHeaders(scope=message), started)
                await send(message)

            await self.app(scope, receive, watch)
        self.sandbox.log.record(
            {
                "api": api,
                "method": scope["method"],
                "path": path,
                "bucket": ",".join(c for c, _ in buckets_for(api, path)),
                "status": status[0],
                "t": started,
                # The query string (never the auth header), so tests can count per channel.
                "query": _without_token(scope.get("query_string", b"")),
            }
        )

    async def _refusal(self, api: str, path: str, started: float) -> Response | None:
        """A scripted fault or a 429 to send instead of the real answer, if any."""
        fault = self.sandbox.faults.take(api, path)
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay_s)
            fault = None
        if fault is not None and fault.kind == "malformed_json":
            return Response(MALFORMED, status_code=200, media_type="application/json")
        if fault is not None:
            response = self.responders[api](fault.kind, fault.retry_after)
            if fault.kind == "429":
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        exact = self.sandbox.limiter.acquire_exact(buckets_for(api, path), started)
        if exact is not None:
            wait = self.sandbox.slack_seconds(exact) if api == "slack" else max(1, math.ceil(exact))
            response = self.responders[api]("429", wait)
            response.headers["Retry-After"] = str(wait)
            return response
        return None

    def _hubspot_headers(self, headers: MutableHeaders, now: float) -> None:
        """HubSpot's X-HubSpot-RateLimit-* headers for the general bucket."""
        state = self.sandbox.limiter.remaining("hubspot:general", "hubspot.general", now)
        if state is None:
            return
        remaining, limit = state
        headers["X-HubSpot-RateLimit-Max"] = str(limit.limit)
        headers["X-HubSpot-RateLimit-Remaining"] = str(remaining)
        headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(int(limit.window_s * 1000))
