"""Benchmark `sophia serve`: requests/s and latency percentiles over real HTTP on loopback.

Run: .venv/bin/python bench/serve.py [--concurrency 32] [--seconds 4] [--workers N]

Scenarios, each at a fixed concurrency for a fixed time, against 1 worker and N workers:
`GET /health` (the baseline: the HTTP stack, middleware and metrics alone), a cached
`POST /v1/ask` (auth + rate limit + the ask cache in Redis) and an uncached one
(`use_cache: false`: parse, compile and run the SQL in PostgreSQL). The load generator is
Python (httpx, asyncio) in this process, so on a small machine it shares the CPU with the
server; ratios measured in the same run are the figures to compare. Stores: PostgreSQL from
BENCH_DATABASE_URL (admin URL; a scratch database is created and dropped) else an embedded
server in a temp SOPHIA_HOME; Redis from BENCH_REDIS_URL else embedded Valkey there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ask"))

from ask_fixture_data import AS_OF, load  # noqa: E402

QUESTION = "won revenue by owner last quarter"


@dataclass
class Figures:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def setup_stores(home: Path) -> Callable[[], None]:
    """A migrated scratch database holding the ask fixture company, and a Redis prefix."""
    import psycopg

    from sophia_cli.store import embedded_postgres, embedded_redis, migrations
    from sophia_cli.store.databases import create_database, drop_database

    admin = os.environ.get("BENCH_DATABASE_URL") or embedded_postgres.ensure_running(home)
    url = create_database(admin, prefix="sophia_bench_")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
    load(url)
    os.environ["DATABASE_URL"] = url
    redis_url = os.environ.get("BENCH_REDIS_URL") or embedded_redis.ensure_running(home)
    os.environ["REDIS_URL"] = redis_url
    os.environ["REDIS_KEY_PREFIX"] = f"sophia-bench-{uuid.uuid4().hex[:8]}:"

    def teardown() -> None:
        drop_database(admin, url)
        if not os.environ.get("BENCH_DATABASE_URL"):
            embedded_postgres.stop(home)
        if not os.environ.get("BENCH_REDIS_URL"):
            embedded_redis.stop(home)

    return teardown


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sophia_cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("sophia serve did not start")


async def load_run(
    url: str,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
) -> Figures:
    """`concurrency` clients send back-to-back requests for `seconds`."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:
        stop_at = time.perf_counter() + seconds

        async def client_loop() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await client.request(method, path, json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return Figures(len(latencies), errors, elapsed, latencies)


def report(label: str, figures: Figures, baseline: Figures | None) -> None:
    ratio = f"  x{figures.rps / baseline.rps:5.2f} of 1 worker" if baseline else ""
    print(
        f"  {label:<22} {figures.rps:8.0f} req/s   P50 {figures.percentile(0.50):7.1f} ms"
        f"   P95 {figures.percentile(0.95):7.1f} ms   P99 {figures.percentile(0.99):7.1f} ms"
        f"   errors {figures.errors}{ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    os.environ["SOPHIA_HOME"] = str(home)
    os.environ["JWT_SECRET"] = secrets.token_hex(40)
    os.environ["RATE_LIMIT_PER_MINUTE"] = str(10**9)  # measure serving, not refusing
    teardown = setup_stores(home)
    from sophia_cli.core.auth.tokens import Scope, issue_token
    from sophia_cli.core.settings import load_settings

    token = issue_token(load_settings(), "bench", [Scope.ASK], 3600)
    auth = {"Authorization": f"Bearer {token}"}
    ask = {"question": QUESTION, "as_of": AS_OF.isoformat()}
    scenarios: list[tuple[str, str, str, Any, dict[str, str]]] = [
        ("GET /health", "GET", "/health", None, {}),
        ("POST /v1/ask cached", "POST", "/v1/ask", ask, auth),
        ("POST /v1/ask uncached", "POST", "/v1/ask", {**ask, "use_cache": False}, auth),
    ]
    print(
        f"sophia serve on loopback, concurrency {args.concurrency}, {args.seconds:g} s per "
        f"scenario, {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}), "
        "Python load generator in-process"
    )
    baselines: dict[str, Figures] = {}
    try:
        for workers in (1, args.workers):
            process, url = start_server(workers)
            try:
                httpx.post(url + "/v1/ask", json=ask, headers=auth, timeout=30)  # warm the cache
                print(f"{workers} worker{'s' if workers > 1 else ''}:")
                for label, method, path, body, headers in scenarios:
                    asyncio.run(load_run(url, method, path, body, headers, 4, 0.5))  # warm-up
                    figures = asyncio.run(
                        load_run(url, method, path, body, headers, args.concurrency, args.seconds)
                    )
                    report(label, figures, baselines.get(label) if workers > 1 else None)
                    baselines.setdefault(label, figures)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        health, cached = baselines["GET /health"], baselines["POST /v1/ask cached"]
        uncached = baselines["POST /v1/ask uncached"]
        print(
            f"1 worker: cached ask x{cached.rps / health.rps:.2f} of /health throughput; "
            f"uncached ask x{uncached.rps / cached.rps:.2f} of cached"
        )
    finally:
        teardown()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
