"""With SENTRY_DSN set, unexpected errors of the CLI, the API and sync reach Sentry (here a
loopback endpoint speaking Sentry's envelope protocol), with the release set and nothing
secret in them; errors sophia explains to the user are not sent.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sophia_cli import __version__
from sophia_cli.core import errortracking
from sophia_cli.core.settings import load_settings
from sophia_cli.sandbox.api.app import SandboxHandle

PASSWORD = "pg-Hunter2-secret"
JWT = "j" * 24 + "-jwt-signing-secret-" + "k" * 24
SLACK = "xoxb-1111-2222-abcdefghijklmnop"
DATABASE = f"postgresql://app:{PASSWORD}@db.example.com:5432/sophia"


class FakeSentry:
    """Collects the envelopes sentry-sdk posts; `events()` decodes the error events."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli  # type: ignore[import-not-found]

                    body = brotli.decompress(body)
                received.append(body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server.server_address[1]}/1"

    def events(self, wait_s: float = 5.0, at_least: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            found = [event for body in self.bodies for event in _events(body)]
            if len(found) >= at_least:
                return found
            time.sleep(0.05)
        return [event for body in self.bodies for event in _events(body)]

    def raw(self) -> str:
        return b"\n".join(self.bodies).decode(errors="replace")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _events(envelope: bytes) -> list[dict[str, Any]]:
    lines = envelope.split(b"\n")
    found = []
    for header, payload in zip(lines[1::2], lines[2::2], strict=False):
        if json.loads(header).get("type") == "event":
            found.append(json.loads(payload))
    return found


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSentry]:
    fake = FakeSentry()
    monkeypatch.setenv("SENTRY_DSN", fake.dsn)
    monkeypatch.setenv("JWT_SECRET", JWT)
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK)
    yield fake
    errortracking.stop()
    fake.close()


def _no_secret_in(text: str) -> None:
    for secret in (PASSWORD, JWT, SLACK):
        assert secret not in text


def _exception(event: dict[str, Any]) -> dict[str, Any]:
    return event["exception"]["values"][-1]  # type: ignore[no-any-return]


def test_an_unexpected_cli_error_arrives_with_the_release_and_no_secret(
    sentry: FakeSentry, monkeypatch: pytest.MonkeyPatch, sophia: Callable[..., Any]
) -> None:
    def broken(settings: Any) -> Any:
        raise RuntimeError(f"cannot read {DATABASE} (Bearer {JWT}) with {SLACK}")

    monkeypatch.setattr("sophia_cli.core.db.status.db_status", broken)
    result = sophia("db", "status")
    assert result.exit_code == 1 and "internal error" in result.stderr
    _no_secret_in(result.stderr)  # the user's error line is scrubbed the same way
    (event,) = sentry.events()
    assert event["release"] == f"sophia@{__version__}"
    assert event["tags"]["face"] == "cli" and event["tags"]["command"] == "db status"
    assert _exception(event)["type"] == "RuntimeError"
    assert "db.example.com" in _exception(event)["value"]  # what is not secret stays
    _no_secret_in(sentry.raw())


def test_an_error_sophia_explains_is_not_sent(
    sentry: FakeSentry, monkeypatch: pytest.MonkeyPatch, sophia: Callable[..., Any]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://app:{PASSWORD}@127.0.0.1:1/none")
    result = sophia("db", "upgrade")
    assert result.exit_code == 1 and "unreachable" in result.stderr
    assert sentry.events(wait_s=1.0) == []


def test_an_unhandled_api_error_arrives_tagged_with_its_route(
    sentry: FakeSentry, stores_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sophia_cli.server.app import create_app

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"probe saw {DATABASE} and {SLACK}")

    monkeypatch.setattr("sophia_cli.server.routes.ops.run_checks", broken)
    app = create_app(load_settings())

    async def probe() -> int:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get("/ready")).status_code

    assert asyncio.run(probe()) == 500
    errortracking.flush()
    (event,) = sentry.events()
    assert event["tags"]["face"] == "server" and event["tags"]["route"] == "/ready"
    assert _exception(event)["type"] == "ValueError"
    _no_secret_in(sentry.raw())


def test_a_sync_stream_failing_unexpectedly_arrives_tagged_with_its_source(
    sentry: FakeSentry,
    stores_env: dict[str, str],
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
    sophia: Callable[..., Any],
) -> None:
    for name, value in {
        **sandbox.env,
        "SYNC_RATE_LIMITS": "off",
        "SYNC_TEXT_INDEX": "false",
    }.items():
        monkeypatch.setenv(name, value)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError(f"row refers to {DATABASE}")

    monkeypatch.setattr("sophia_cli.core.sync.engine.load", broken)
    result = sophia("sync", "gong", "--json")
    assert result.exit_code == 1
    events = sentry.events(at_least=2)
    assert events and all(e["tags"]["source"] == "gong" for e in events)
    assert {e["tags"]["stream"] for e in events} >= {"users"}
    _no_secret_in(sentry.raw())


def test_without_a_dsn_nothing_is_initialised(sophia: Callable[..., Any]) -> None:
    assert sophia("db", "stop").exit_code == 0
    errortracking.capture(RuntimeError("nobody listens"))
    assert not errortracking.init(load_settings(), "cli")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (f"connect to {DATABASE}", "db.example.com:5432/sophia"),
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization"),
        (f"token {SLACK} refused", "refused"),
        ("sk-proj-abcdefghijklmnopqrstu was rejected", "was rejected"),
    ],
)
def test_scrub_removes_credentials_and_keeps_the_rest(text: str, kept: str) -> None:
    scrubbed = errortracking.scrub_text(text, [])
    assert kept in scrubbed and errortracking.FILTERED in scrubbed
    for secret in (PASSWORD, SLACK, "abc.def-ghi_jkl", "sk-proj-abcdefghijklmnopqrstu"):
        assert secret not in scrubbed


def test_values_under_secret_keys_are_filtered_whatever_they_look_like() -> None:
    event = {"extra": {"api_key": "plain", "count": "3"}, "list": [{"password": "x"}]}
    assert errortracking.scrub(event, []) == {
        "extra": {"api_key": "[Filtered]", "count": "3"},
        "list": [{"password": "[Filtered]"}],
    }
