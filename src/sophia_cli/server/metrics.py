"""Prometheus metrics and the access log, recorded by one ASGI middleware.

Each app owns its registry (tests build many apps in one process). With several workers,
`sophia serve` sets PROMETHEUS_MULTIPROC_DIR and `/metrics` merges every worker's values.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from sophia_cli import __version__
from sophia_cli.server.squad_metrics import SquadMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("sophia.access")
log = logging.getLogger("sophia.server")
SERVED_BY = f"sophia/{__version__}".encode()
# Label values come from closed sets (Prometheus' cardinality guidance): a client choosing
# the method, path or query must not be able to mint new series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """Every metric sophia serve exports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "sophia_http_requests",
            "HTTP requests by route, method, status and port kind.",
            ["route", "method", "status", "port"],
            registry=r,
        )
        self.latency = Histogram(
            "sophia_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.legacy_callers = Counter(
            "sophia_legacy_requests",
            "Requests that arrived on the legacy (Bridge) port.",
            ["route", "caller"],
            registry=r,
        )
        self.rate_limited = Counter(
            "sophia_rate_limit_refusals",
            "Requests refused by the rate limit.",
            ["route"],
            registry=r,
        )
        self.rate_limit_errors = Counter(
            "sophia_rate_limit_store_errors",
            "Rate-limit decisions skipped because Redis failed (requests were admitted).",
            registry=r,
        )
        self.auth_failures = Counter(
            "sophia_auth_failures",
            "Requests refused by authentication or scope.",
            ["reason"],
            registry=r,
        )
        self.squad = SquadMetrics(r)
        self.sync_rows = Counter(
            "sophia_sync_rows",
            "Rows written by syncs started through the API.",
            ["source"],
            registry=r,
        )
        self.sync_failures = Counter(
            "sophia_sync_failures",
            "Syncs started through the API that failed.",
            ["source"],
            registry=r,
        )

    def exposition(self) -> bytes:
        """The text exposition format; merged across workers in multiprocess mode."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)


def method_label(scope: Scope) -> str:
    """The request method if it is a standard one, else `other`."""
    method = str(scope.get("method", ""))
    return method if method in KNOWN_METHODS else "other"


def route_template(scope: Scope) -> str:
    """The matched route's path template (bounded cardinality), or `unmatched`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class ObserveMiddleware:
    """Counts and times every request, adds `x-served-by`, writes one access-log line."""

    def __init__(self, app: ASGIApp, metrics: Metrics, legacy_port: int | None) -> None:
        self.app = app
        self.metrics = metrics
        self.legacy_port = legacy_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_observed(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-served-by", SERVED_BY))
                headers.extend(_rate_limit_headers(scope))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception as exc:
            # The one place unexpected errors end: answered in the shared error shape, and
            # the worker keeps serving. Only a real bug is logged with its traceback; an
            # error the translation recognises (bad input, a store down) is one line.
            from sophia_cli.server.errors import error_response, translate_unexpected

            error = translate_unexpected(exc)
            where = (method_label(scope), route_template(scope))
            if type(error).__name__ == "SophiaError":
                log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
                from sophia_cli.core import errortracking

                errortracking.capture(exc, route=where[1], method=where[0])
            else:
                log.warning("%s %s: %s (%s)", *where, error.message, type(exc).__name__)
            if response_started:
                raise
            await error_response(error)(scope, receive, send_observed)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route, method = route_template(scope), method_label(scope)
        server = scope.get("server") or (None, None)
        legacy = self.legacy_port is not None and server[1] == self.legacy_port
        subject = str(scope.get("state", {}).get("subject") or "anonymous")
        self.metrics.requests.labels(
            route, method, str(status), "legacy" if legacy else "api"
        ).inc()
        self.metrics.latency.labels(route, method).observe(elapsed)
        if legacy:
            self.metrics.legacy_callers.labels(route, subject).inc()
        # Path template and subject only: never query strings, headers or bodies (secrets).
        access_log.info(
            json.dumps(
                {
                    "event": "request",
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "subject": subject,
                    "port": "legacy" if legacy else "api",
                    "client": (scope.get("client") or ("", 0))[0],
                }
            )
        )


def _rate_limit_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    decision = scope.get("state", {}).get("rate_limit")
    if decision is None:
        return []
    return [
        (b"ratelimit-limit", str(decision.limit).encode()),
        (b"ratelimit-remaining", str(decision.remaining).encode()),
        (b"ratelimit-reset", str(decision.reset_s).encode()),
        (b"ratelimit-policy", f"{decision.limit};w={decision.window_s}".encode()),
    ]
