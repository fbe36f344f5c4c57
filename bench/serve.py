"""Benchmark `sophia serve` over real HTTP on loopback, against a bare Starlette app.

Run: .venv/bin/python bench/serve.py [--workers 2] [--seconds 5] [--rates 25,50,100,150,200]

1. Keep-alive latency: sequential `GET /health` on one connection, sophia vs a bare
   Starlette app served by uvicorn in the same run (the ratio is the figure; the target is
   sophia's median within 2x of the bare app's).
2. Fixed rates (open loop: each request is sent at its scheduled time whether or not the
   previous ones finished, and its latency counts from that time, so a stall is not hidden):
   P50/P95/P99 for `/health`, a cached `POST /v1/ask`, an uncached one (`use_cache: false`:
   parse, compile, run in PostgreSQL) and `POST /v1/query`; the highest rate whose P95 stays
   under 200 ms is reported per scenario.

The load generator is Python (httpx, asyncio) in this process; the servers are separate
processes. On a small shared machine they compete for the CPU: compare ratios from one run.
Stores: PostgreSQL from BENCH_DATABASE_URL (an admin URL; a scratch database is created and
dropped) else an embedded server in a temp SOPHIA_HOME; Redis from BENCH_REDIS_URL else an
embedded Valkey there. The warehouse holds the ask tests' fixture company.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import statistics
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
QUERY = (
    "SELECT o.first_name, count(*) AS deals, sum(d.amount) AS amount FROM hubspot.deals d "
    "JOIN hubspot.owners o ON o.id = d.owner_id WHERE d.is_won GROUP BY 1 ORDER BY 3 DESC"
)
TARGET_P95_MS = 200.0
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def health(request):
    return JSONResponse({"status": "ok", "version": "bare"})

app = Starlette(routes=[Route("/health", health)])
"""


@dataclass
class Figures:
    sent: int
    errors: int
    latencies_ms: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


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
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("server did not start")


def start_sophia(workers: int, cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "sophia_cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=cwd,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url, process)
    return process, url


def start_bare(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The bare app in one uvicorn process: uvicorn's own listener (asyncio's, with
    TCP_NODELAY); `uvicorn --workers` binds a socket that lacks it and adds ~40 ms."""
    (folder / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--no-access-log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=folder,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(url, process)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def keepalive_median_ms(url: str, count: int) -> float:
    """Median of `count` sequential GET /health on one keep-alive connection."""
    timings = []
    with httpx.Client(base_url=url) as client:
        for _ in range(20):
            client.get("/health")
        for _ in range(count):
            started = time.perf_counter()
            client.get("/health")
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def fixed_rate(
    url: str,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    rate: float,
    seconds: float,
) -> Figures:
    """Send `rate` requests per second for `seconds`, each at its scheduled time."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=30
    ) as client:

        async def one(scheduled: float) -> None:
            nonlocal errors
            try:
                response = await client.request(method, path, json=body)
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - scheduled) * 1000)

        total = int(rate * seconds)
        began = time.perf_counter()
        tasks = []
        for index in range(total):
            scheduled = began + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
    return Figures(total, errors, latencies)


def line(label: str, rate: float, figures: Figures) -> str:
    return (
        f"  {label:<24} {rate:6.0f}/s   P50 {figures.percentile(0.50):7.1f}   "
        f"P95 {figures.percentile(0.95):7.1f}   P99 {figures.percentile(0.99):7.1f} ms"
        f"   errors {figures.errors}/{figures.sent}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="25,50,100,150,200")
    parser.add_argument("--keepalive", type=int, default=300)
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]

    home = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    os.environ["SOPHIA_HOME"] = str(home)
    os.environ["JWT_SECRET"] = secrets.token_hex(40)
    os.environ["RATE_LIMIT_PER_MINUTE"] = str(10**9)  # measure serving, not refusing
    os.environ["SOPHIA_TOKEN_CONCURRENCY"] = "0"  # one bench token sends everything
    teardown = setup_stores(home)
    from sophia_cli.core.auth.tokens import Scope, issue_token
    from sophia_cli.core.settings import load_settings

    token = issue_token(load_settings(), "bench", [Scope.ASK, Scope.QUERY], 3600)
    auth = {"Authorization": f"Bearer {token}"}
    ask = {"question": QUESTION, "as_of": AS_OF.isoformat()}
    scenarios: list[tuple[str, str, str, Any, dict[str, str]]] = [
        ("GET /health", "GET", "/health", None, {}),
        ("POST /v1/ask cached", "POST", "/v1/ask", ask, auth),
        ("POST /v1/ask uncached", "POST", "/v1/ask", {**ask, "use_cache": False}, auth),
        ("POST /v1/query", "POST", "/v1/query", {"sql": QUERY}, auth),
    ]
    print(
        f"loopback, {args.workers} workers, {args.seconds:g} s per rate, {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f}); Python open-loop load generator"
    )
    try:
        bare, bare_url = start_bare(home)
        sophia, url = start_sophia(args.workers, home)
        try:
            bare_ms = keepalive_median_ms(bare_url, args.keepalive)
            sophia_ms = keepalive_median_ms(url, args.keepalive)
            print(
                f"keep-alive GET /health median: sophia {sophia_ms:.2f} ms, bare Starlette "
                f"{bare_ms:.2f} ms, ratio x{sophia_ms / bare_ms:.2f} (target <= 2)"
            )
            print("bare Starlette (1 process):")
            for rate in rates:
                figures = asyncio.run(
                    fixed_rate(bare_url, "GET", "/health", None, {}, rate, args.seconds)
                )
                print(line("GET /health", rate, figures))
            stop(bare)
            httpx.post(url + "/v1/ask", json=ask, headers=auth, timeout=30)  # warm the cache
            print("sophia:")
            best: dict[str, float] = {}
            for label, method, path, body, headers in scenarios:
                for rate in rates:
                    figures = asyncio.run(
                        fixed_rate(url, method, path, body, headers, rate, args.seconds)
                    )
                    print(line(label, rate, figures))
                    if figures.percentile(0.95) < TARGET_P95_MS and not figures.errors:
                        best[label] = max(best.get(label, 0.0), rate)
            for label, *_ in scenarios:
                held = best.get(label)
                print(
                    f"  highest rate holding P95 < {TARGET_P95_MS:.0f} ms: {label}: "
                    + (f"{held:.0f}/s" if held else f"none of {args.rates}")
                )
        finally:
            stop(sophia)
            if bare.poll() is None:
                stop(bare)
    finally:
        teardown()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
