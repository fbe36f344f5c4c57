"""The middleware in front of all four fakes: faults first, then rate limits, then the log."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from sophia_cli.core.sandbox.ratelimit import buckets_for
from sophia_cli.core.sandbox.state import Sandbox

PREFIXES = {"slack": "/slack/api", "asana": "/asana/api/1.0", "hubspot": "/hubspot",
            "gong": "/gong"}
FaultResponder = Callable[[str, int], Response]
CallNext = Callable[[Request], Awaitable[Response]]
# A body that starts like JSON and stops: what a proxy cut-off looks like to a client.
MALFORMED = b'{"ok": true, "results": [{"id": "1", "properties": {"name": "tru'


def split_path(path: str) -> tuple[str, str] | None:
    """(api, path relative to its base) for a request path, or None for other paths."""
    for api, prefix in PREFIXES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return api, path[len(prefix):] or "/"
    return None


class GateMiddleware(BaseHTTPMiddleware):
    """Applies scripted faults and rate limits, and logs every API request with its status."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox,
                 responders: dict[str, FaultResponder]) -> None:
        super().__init__(app)
        self.sandbox = sandbox
        self.responders = responders

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        where = split_path(request.url.path)
        if where is None:
            return await call_next(request)
        api, path = where
        started = time.time()
        response = await self._answer(request, call_next, api, path, started)
        self.sandbox.log.record({"api": api, "method": request.method, "path": path,
                                 "bucket": ",".join(c for c, _ in buckets_for(api, path)),
                                 "status": response.status_code, "t": started})
        return response

    async def _answer(self, request: Request, call_next: CallNext, api: str, path: str,
                      started: float) -> Response:
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
        buckets = buckets_for(api, path)
        wait = self.sandbox.limiter.acquire(buckets, started)
        if wait is not None:
            response = self.responders[api]("429", wait)
            response.headers["Retry-After"] = str(wait)
            return response
        response = await call_next(request)
        if api == "hubspot" and not path.endswith("/search"):
            self._hubspot_headers(response, started)
        return response

    def _hubspot_headers(self, response: Response, now: float) -> None:
        state = self.sandbox.limiter.remaining("hubspot:general", "hubspot.general", now)
        if state is None:
            return
        remaining, limit = state
        response.headers["X-HubSpot-RateLimit-Max"] = str(limit.limit)
        response.headers["X-HubSpot-RateLimit-Remaining"] = str(remaining)
        response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(
            int(limit.window_s * 1000))
