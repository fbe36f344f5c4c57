"""Serve the four fakes and the control API on one 127.0.0.1 port, in-process or in the foreground.

with start_sandbox(seed=7, scale=0.1) as sb:
    env = sb.env            # SLACK_API_BASE, SLACK_BOT_TOKEN, ... pointing at the sandbox
    sb.mutate()
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import date
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount

from sophia_cli.sandbox.adversity import Adversities
from sophia_cli.sandbox.api import asana_api, control_api, gong_api, hubspot_api, slack_api
from sophia_cli.sandbox.api.gate import PREFIXES, GateMiddleware
from sophia_cli.sandbox.dataset import Scenario
from sophia_cli.sandbox.faults import Fault, validate_fault
from sophia_cli.sandbox.ratelimit import SLACK_MINUTE_S, RateLimitMode, SlackRegime
from sophia_cli.sandbox.state import Sandbox

HOST = "127.0.0.1"


def build_app(sb: Sandbox) -> Starlette:
    """One ASGI app: each API under its prefix, the control API under /_sandbox."""
    responders = {
        "slack": slack_api.fault_response,
        "asana": asana_api.fault_response,
        "hubspot": hubspot_api.fault_response,
        "gong": gong_api.fault_response,
    }
    return Starlette(
        routes=[
            Mount(PREFIXES["slack"], routes=slack_api.routes(sb)),
            Mount(PREFIXES["asana"], routes=asana_api.routes(sb)),
            Mount(PREFIXES["hubspot"], routes=hubspot_api.routes(sb)),
            Mount(PREFIXES["gong"], routes=gong_api.routes(sb)),
            Mount("/_sandbox", routes=control_api.routes(sb)),
        ],
        middleware=[Middleware(GateMiddleware, sandbox=sb, responders=responders)],
    )


def sandbox_env(sb: Sandbox, base_url: str) -> dict[str, str]:
    """The variables that point `sophia sync` at this sandbox.

    They also tell the client how this sandbox limits it: no limits at all (so pacing at
    Slack's published 50/min would only make a sync slow: an earlier review measured 487 s
    for 455 thread reads against a sandbox that limits nothing), or Slack's clock compressed.
    """
    pacing: dict[str, str] = {}
    if sb.limiter.mode == "off" and sb.slack_regime == "internal":
        pacing["SYNC_RATE_LIMITS"] = "off"
    if sb.slack_minute_s != SLACK_MINUTE_S:
        pacing["SLACK_RATE_MINUTE_S"] = f"{sb.slack_minute_s:g}"
    return {
        "SLACK_API_BASE": base_url + PREFIXES["slack"],
        "ASANA_API_BASE": base_url + PREFIXES["asana"],
        "HUBSPOT_API_BASE": base_url + PREFIXES["hubspot"],
        "GONG_API_BASE": base_url + PREFIXES["gong"],
        "SLACK_BOT_TOKEN": sb.tokens.slack,
        "ASANA_PAT_TOKEN": sb.tokens.asana,
        "HUBSPOT_API_KEY": sb.tokens.hubspot,
        "GONG_ACCESS_KEY": sb.tokens.gong_key,
        "GONG_ACCESS_KEY_SECRET": sb.tokens.gong_secret,
        "SOPHIA_SANDBOX_URL": base_url,
        **pacing,
        # The fake's own index lag, so a sync against it waits for exactly that long.
        "HUBSPOT_INDEX_LAG_S": f"{sb.adversities.hubspot_index_lag_s:g}",
    }


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0 picks a free one); raises OSError when taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this on Linux; without it, Nagle plus delayed ACKs add
    # ~40 ms to every response written in two parts (headers, body).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class SandboxHandle:
    """A running sandbox: its URL, its env, shortcuts to the control functions, and stop()."""

    def __init__(self, sandbox: Sandbox, port: int = 0) -> None:
        self.sandbox = sandbox
        self._socket = bind(port)
        self.port: int = self._socket.getsockname()[1]
        self.base_url = f"http://{HOST}:{self.port}"
        self.env = sandbox_env(sandbox, self.base_url)
        config = uvicorn.Config(
            build_app(sandbox),
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def serve(self) -> None:
        """Serve in this thread until interrupted (Ctrl-C) or stop() is called."""
        self._server.run(sockets=[self._socket])

    def start(self, timeout_s: float = 10.0) -> SandboxHandle:
        """Serve in a daemon thread; return once the server accepts connections."""
        self._thread = threading.Thread(target=self.serve, name="sophia-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice)."""
        self._server.should_exit = True
        self._server.force_exit = True  # in-process users are done; don't wait on keep-alives
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Shortcuts to the same functions the control API serves.
    def counts(self) -> dict[str, Any]:
        """Expected rows per table."""
        return self.sandbox.counts()

    def expected(self, table: str) -> list[dict[str, Any]]:
        """Expected rows of one table."""
        return self.sandbox.expected(table)

    def mutate(self) -> dict[str, Any]:
        """Apply one mutation."""
        return self.sandbox.mutate()

    def touch(self, kind: str, count: int) -> list[str]:
        """Modify `count` live HubSpot records of `kind` now."""
        return self.sandbox.touch(kind, count)

    def merge(self, kind: str) -> tuple[str, str]:
        """Merge two live HubSpot records of `kind`: (survivor id, merged id)."""
        return self.sandbox.merge(kind)

    def reassociate(self, count: int) -> list[str]:
        """Move `count` deals to another company (an association-only change)."""
        return self.sandbox.reassociate(count)

    def delete_calls(self, ids: list[str]) -> list[str]:
        """Delete these Gong calls (the API stops returning them)."""
        return self.sandbox.delete_calls(ids)

    def calm(self) -> None:
        """Turn every adversity off (nothing changes under the next sync)."""
        self.sandbox.adversities = Adversities()

    def late_reply(self, age_hours: float = 24.0) -> dict[str, Any]:
        """Add a reply to an old thread."""
        return self.sandbox.late_reply(age_hours)

    def change_thread(self, kind: str) -> dict[str, Any]:
        """Edit or delete a reply, or delete a thread's parent."""
        return self.sandbox.change_thread(kind)

    def change_asana(self, kind: str) -> dict[str, Any]:
        """Delete a task, or edit or delete a subtask, leaving every project listing as it was."""
        return self.sandbox.change_asana(kind)

    def expire_asana_tokens(self) -> int:
        """Expire every Asana sync token issued so far."""
        return self.sandbox.expire_asana_tokens()

    def add_fault(self, **fields: Any) -> Fault:
        """Queue a scripted fault."""
        fault = validate_fault(fields)
        self.sandbox.faults.add(fault)
        return fault

    def requests(self, api: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        """The request log."""
        return self.sandbox.log.query(api, since)


def start_sandbox(
    *,
    seed: int = 7,
    scale: float = 1.0,
    rate_limits: RateLimitMode = "off",
    port: int = 0,
    today: date | None = None,
    scenario: Scenario = "default",
    gong_page_size: int = 100,
    slack_regime: SlackRegime = "internal",
    slack_minute_s: float = SLACK_MINUTE_S,
    adversities: Adversities | None = None,
    asana_events_page: int = 100,
    slack_external_users: int = 0,
) -> SandboxHandle:
    """Build the dataset and serve it in a background thread; use as a context manager."""
    sandbox = Sandbox(
        seed=seed,
        scale=scale,
        today=today,
        scenario=scenario,
        rate_limits=rate_limits,
        gong_page_size=gong_page_size,
        slack_regime=slack_regime,
        slack_minute_s=slack_minute_s,
        adversities=adversities,
        asana_events_page=asana_events_page,
        slack_external_users=slack_external_users,
    )
    return SandboxHandle(sandbox, port).start()
