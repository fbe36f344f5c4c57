"""What each listening port is for: the API, the legacy (Bridge) port, or metrics only.

One app answers on every port; the port a request arrived on (the ASGI `server` address)
decides its role. Legacy responses are marked deprecated with a `Link` to the same path on
the API port, so callers can be found (metrics) and moved. The metrics port, when set,
answers `/metrics` and `/health` only, and then `/metrics` is not served on the API ports.
"""

from __future__ import annotations

from dataclasses import dataclass

from sophia_cli.core.errors import NotFoundError
from sophia_cli.server.metrics import ASGIApp, Message, Receive, Scope, Send

METRICS_PORT_PATHS = frozenset({"/metrics", "/health"})


@dataclass(frozen=True)
class PortPlan:
    """The ports one server answers on."""

    api: int
    legacy: int | None = None
    metrics: int | None = None


def arrival_port(scope: Scope) -> int | None:
    server = scope.get("server")
    return int(server[1]) if server and server[1] is not None else None


def successor_link(scope: Scope, api_port: int) -> bytes:
    """`<http://ADDRESS:API/path>; rel="successor-version"` for a legacy request.

    The address is the one the connection arrived on, never the client's Host header, and
    the path is percent-encoded without its query string: nothing a caller sends is
    reflected into the header.
    """
    from urllib.parse import quote

    server = scope.get("server") or ("127.0.0.1", None)
    address = str(server[0])
    host = f"[{address}]" if ":" in address else address
    path = quote(str(scope.get("path", "/")), safe="/-._~")
    scheme = "https" if scope.get("scheme") == "https" else "http"
    return f'<{scheme}://{host}:{api_port}{path}>; rel="successor-version"'.encode("ascii")


class PortsMiddleware:
    """Marks legacy-port responses deprecated and confines the metrics port."""

    def __init__(self, app: ASGIApp, plan: PortPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        port = arrival_port(scope)
        path = scope.get("path", "")
        if self.plan.metrics is not None:
            on_metrics_port = port == self.plan.metrics
            if (on_metrics_port and path not in METRICS_PORT_PATHS) or (
                not on_metrics_port and path == "/metrics"
            ):
                await _not_found(scope, send, path)
                return
        if self.plan.legacy is None or port != self.plan.legacy:
            await self.app(scope, receive, send)
            return
        link = successor_link(scope, self.plan.api)

        async def send_deprecated(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"deprecation", b"true"),
                    (b"link", link),
                ]
            await send(message)

        await self.app(scope, receive, send_deprecated)


async def _not_found(scope: Scope, send: Send, path: str) -> None:
    from sophia_cli.server.errors import error_response

    response = error_response(NotFoundError(f"no route {path} on this port"))
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
