"""The demo warehouse served by a real `sophia serve`, for bench/page.py and bench/screenshots.py.

`demo_server()` creates a scratch database on the PostgreSQL at BENCH_DATABASE_URL (an admin
URL; dropped afterwards) or else on an embedded server in a temp SOPHIA_HOME, syncs the
sandbox company into it (`sophia demo`'s path, seed 7), starts `sophia serve` on a free
loopback port and yields the URL and a way to sign tokens. Redis comes from BENCH_REDIS_URL
or else an embedded Valkey there (a fresh key prefix per run either way).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")


@dataclass
class DemoServer:
    url: str
    settings: Any  # sophia_cli.core.settings.Settings of the demo warehouse
    sandbox: Any  # the running sandbox, to sync again

    def token(self, *scopes: str, sub: str = "analyst", ttl: int = 3600) -> str:
        from sophia_cli.core.auth.tokens import Scope, issue_token

        return issue_token(self.settings, sub, [Scope(s) for s in scopes], ttl)

    def link(self, token: str, path: str = "/") -> str:
        return f"{self.url}{path}#token={token}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"sophia serve did not start: {log.read_text()[-2000:]}")


@contextmanager
def demo_server(scale: float = 0.1, seed: int = 7) -> Iterator[DemoServer]:
    from sophia_cli.core.settings import load_settings
    from sophia_cli.core.sync.demo import run_demo
    from sophia_cli.sandbox.api.app import start_sandbox
    from sophia_cli.store import embedded_milvus, embedded_postgres, embedded_redis
    from sophia_cli.store.databases import create_database, drop_database

    home = Path(tempfile.mkdtemp(prefix="sophia-bp-"))
    admin = os.environ.get("BENCH_DATABASE_URL") or embedded_postgres.ensure_running(home)
    redis = os.environ.get("BENCH_REDIS_URL") or embedded_redis.ensure_running(home)
    url = create_database(admin, prefix="sophia_bench_page_")
    secret = secrets.token_hex(32)
    prefix = f"sophia-bench-page-{uuid.uuid4().hex[:8]}:"
    settings = load_settings(
        database_url=url, redis_url=redis, redis_key_prefix=prefix, sophia_home=home,
        jwt_secret=secret,
    )  # fmt: skip
    process = None
    try:
        with start_sandbox(seed=seed, scale=scale, rate_limits="off") as sandbox:
            report = run_demo(settings, sandbox.env, sandbox.base_url, seed=seed, scale=scale)
            if not report.sync.ok:
                raise SystemExit("the demo sync failed")
            port = _free_port()
            log = home / "serve.log"
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("SOPHIA_")},
                "JWT_SECRET": secret, "DATABASE_URL": url, "REDIS_URL": redis,
                "REDIS_KEY_PREFIX": prefix, "SOPHIA_HOME": str(home),
            }  # fmt: skip
            process = subprocess.Popen(
                [sys.executable, "-m", "sophia_cli", "serve", "--host", "127.0.0.1",
                 "--port", str(port)],
                env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
                start_new_session=True,
            )  # fmt: skip
            server_url = f"http://127.0.0.1:{port}"
            _wait_ready(server_url, process, log)
            yield DemoServer(url=server_url, settings=settings, sandbox=sandbox)
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        drop_database(admin, url)
        embedded_milvus.stop(home)
        if not os.environ.get("BENCH_DATABASE_URL"):
            embedded_postgres.stop(home)
        if not os.environ.get("BENCH_REDIS_URL"):
            embedded_redis.stop(home)
