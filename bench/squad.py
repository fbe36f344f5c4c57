"""Benchmark the squad gateway against a raw-httpx and a direct-LiteLLM baseline, same run.

Run: .venv/bin/python bench/squad.py [--calls 150] [--rounds 5] [--delay-ms 20]
                                     [--concurrency 50,200,800] [--hold-s 1.0]

A fake OpenAI-compatible provider on 127.0.0.1 (tests/squad/fake_llm.py, asyncio) answers
after --delay-ms. Part 1, per-call latency, interleaved: each round runs a batch of every
mode in turn (raw httpx to the provider, `litellm.acompletion`, the core
`router.acomplete`, and the same through a `sophia serve` worker over HTTP, JSON and
streamed), so machine load falls on all of them alike; the overhead of each layer is
reported as a difference and a ratio against the baselines. Part 2, per-worker
concurrency: N calls at once, each held --hold-s by the provider, through one `sophia serve`
worker and, as the baseline, through direct `litellm.acompletion` in this process; the
figure is the peak number of calls the provider saw in flight at once. LiteLLM opens at most
AIOHTTP_CONNECTOR_LIMIT_PER_HOST (500) connections to one provider host per process: set it
in the environment to go past that.

Stores: PostgreSQL from BENCH_DATABASE_URL (an admin URL; a scratch database is created and
dropped) else an embedded server in a temp SOPHIA_HOME; Redis from BENCH_REDIS_URL else
embedded Valkey there. Figures taken while other work loads the machine are noisy: compare
the ratios of one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "squad"))

from fake_llm import FakeServer  # noqa: E402

SECRET = "bench-" + "0123456789abcdef" * 5
SQUADS = """
router: {{timeout_s: 60, deadline_s: 120}}
squads:
  litellm:
    primary: true
    deployments:
      - {{name: cheap, model: openai/cheap, api_base: "{url}", api_key_env: OPENAI_API_KEY,
         capabilities: [chat], input_cost_per_mtok: 0.15, output_cost_per_mtok: 0.6,
         max_output_tokens: 1024}}
"""
Call = Callable[[int], Awaitable[Any]]


def setup_stores(home: Path) -> Callable[[], None]:
    """Point the environment at a migrated scratch database and a fresh Redis prefix."""
    import psycopg

    from sophia_cli.store import embedded_postgres, embedded_redis, migrations
    from sophia_cli.store.databases import create_database, drop_database

    admin = os.environ.get("BENCH_DATABASE_URL") or embedded_postgres.ensure_running(home)
    url = create_database(admin, prefix="sophia_bench_")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL") or embedded_redis.ensure_running(
        home
    )
    os.environ["REDIS_KEY_PREFIX"] = f"sophia-bench-{uuid.uuid4().hex[:8]}:"

    def teardown() -> None:
        from sophia_cli.store import pooled

        pooled.close_all()
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


class Gateway:
    """One `sophia serve` worker on a free port."""

    def __init__(self, home: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # One token drives every call: the per-token limits (requests per minute and calls in
        # progress per worker) would measure themselves, not the worker.
        env = {
            **os.environ,
            "JWT_SECRET": SECRET,
            "RATE_LIMIT_PER_MINUTE": "100000000",
            "SOPHIA_TOKEN_CONCURRENCY": "0",
        }
        self.log = (home / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sophia_cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,
        )
        from sophia_cli.core.auth.tokens import Scope, issue_token
        from sophia_cli.core.settings import Settings

        token = issue_token(Settings(jwt_secret=SECRET), "bench", [Scope.SQUAD], 3600)  # type: ignore[call-arg]
        self.headers = {"Authorization": f"Bearer {token}"}

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("sophia serve exited; see its log")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise SystemExit("sophia serve did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def body(index: int, tag: str) -> dict[str, Any]:
    # A unique prompt per call: the cache never answers, every call reaches the provider.
    content = f"{tag} question {index} {uuid.uuid4().hex[:6]}"
    return {"model": "cheap", "messages": [{"role": "user", "content": content}], "max_tokens": 20}


def modes(fake: FakeServer, gateway: Gateway, http: httpx.AsyncClient) -> dict[str, Call]:
    import litellm

    from sophia_cli.core.settings import load_settings
    from sophia_cli.core.squad import router
    from sophia_cli.core.squad.request import from_openai

    settings = load_settings()

    async def raw_httpx(i: int) -> Any:
        response = await http.post(
            fake.url + "/chat/completions",
            json=body(i, "raw"),
            headers={"Authorization": "Bearer sk-bench"},
        )
        return response.raise_for_status()

    async def direct_litellm(i: int) -> Any:
        return await litellm.acompletion(
            **{**body(i, "litellm"), "model": "openai/cheap"},
            api_base=fake.url,
            api_key="sk-bench",
            num_retries=0,
            max_retries=0,
        )

    async def core_router(i: int) -> Any:
        return await router.acomplete(settings, from_openai(body(i, "core")))

    async def gateway_json(i: int) -> Any:
        response = await http.post(
            gateway.url + "/v1/chat/completions", json=body(i, "gw"), headers=gateway.headers
        )
        return response.raise_for_status()

    async def gateway_stream(i: int) -> Any:
        request = {**body(i, "sse"), "stream": True}
        async with http.stream(
            "POST", gateway.url + "/v1/chat/completions", json=request, headers=gateway.headers
        ) as response:
            response.raise_for_status()
            async for _line in response.aiter_lines():
                pass

    return {
        "raw httpx -> provider": raw_httpx,
        "litellm.acompletion -> provider": direct_litellm,
        "router.acomplete (core, in-process)": core_router,
        "sophia serve, JSON": gateway_json,
        "sophia serve, streamed (SSE)": gateway_stream,
    }


async def latency(calls: dict[str, Call], rounds: int, per_round: int) -> dict[str, list[float]]:
    """Sequential calls, modes interleaved round by round; milliseconds per call."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm connections, pools and imports
        for i in range(5):
            await call(-i - 1)
    counter = 0
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(per_round):
                counter += 1
                started = time.perf_counter()
                await call(counter)
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def report_latency(samples: dict[str, list[float]], delay_ms: float) -> None:
    raw = statistics.median(samples["raw httpx -> provider"])
    lite = statistics.median(samples["litellm.acompletion -> provider"])
    print(f"\nper call, sequential, provider answers after {delay_ms:.0f} ms (medians, p95):")
    for name, values in samples.items():
        median = statistics.median(values)
        p95 = sorted(values)[int(len(values) * 0.95) - 1]
        print(
            f"  {name:<38} {median:7.2f} ms  p95 {p95:7.2f} ms  "
            f"+{median - raw:6.2f} ms vs raw ({median / raw:4.2f}x)  "
            f"+{median - lite:6.2f} ms vs litellm ({median / lite:4.2f}x)"
        )


async def concurrency(fake: FakeServer, call: Call, calls: int) -> tuple[int, float, int]:
    """Fire `calls` at once; the provider's peak in-flight count, wall seconds, failures."""
    with fake.state.lock:
        fake.state.peak_in_flight = 0
    started = time.perf_counter()
    results = await asyncio.gather(*[call(i) for i in range(calls)], return_exceptions=True)
    wall = time.perf_counter() - started
    kinds = Counter(type(r).__name__ for r in results if isinstance(r, BaseException))
    with fake.state.lock:
        peak = fake.state.peak_in_flight
    return peak, wall, ", ".join(f"{n} {kind}" for kind, n in kinds.items()) or "0"


async def run(args: argparse.Namespace, fake: FakeServer, gateway: Gateway) -> None:
    limits = httpx.Limits(max_connections=4000, max_keepalive_connections=4000)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        calls = modes(fake, gateway, http)
        fake.script("cheap", default={"delay_s": args.delay_ms / 1000, "completion_tokens": 20})
        samples = await latency(calls, args.rounds, max(1, args.calls // args.rounds))
        report_latency(samples, args.delay_ms)

        fake.script("cheap", default={"delay_s": args.hold_s, "completion_tokens": 20})
        print(f"\nper-worker concurrency: N calls at once, each held {args.hold_s:.1f} s upstream")
        print(f"  {'N':>5}  {'path':<34} {'peak in flight':>14} {'wall':>8}  failed")
        for n in [int(x) for x in args.concurrency.split(",")]:
            for name in ("litellm.acompletion -> provider", "sophia serve, JSON"):
                peak, wall, failed = await concurrency(fake, calls[name], n)
                print(f"  {n:>5}  {name:<34} {peak:>14} {wall:>7.2f}s  {failed}")


def bench_models(runs: int) -> None:
    """Wall time of `sophia squad models --json` vs `import litellm` alone, as subprocesses."""

    def wall(args: list[str]) -> float:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1000

    models = wall([sys.executable, "-m", "sophia_cli", "squad", "models", "--json"])
    imported = wall([sys.executable, "-c", "import litellm"])
    bare = wall([sys.executable, "-c", "pass"])
    print(f"\nprocess wall time, median of {runs}:")
    print(f"  python -c pass                     {bare:7.0f} ms")
    print(f"  sophia squad models --json         {models:7.0f} ms")
    print(
        f"  python -c 'import litellm'         {imported:7.0f} ms   "
        f"(models is {imported / models:.1f}x faster: it never imports litellm)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=150, help="calls per mode (latency)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", default="50,200,800")
    parser.add_argument("--hold-s", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3, help="process runs for `squad models`")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    os.environ.update(
        SOPHIA_HOME=str(home), OPENAI_API_KEY="sk-bench", LITELLM_LOCAL_MODEL_COST_MAP="True"
    )
    fake = FakeServer().start()
    (home / "squads.yaml").write_text(SQUADS.format(url=fake.url))
    os.environ["SOPHIA_SQUADS_FILE"] = str(home / "squads.yaml")
    teardown = setup_stores(home)
    gateway = Gateway(home)
    try:
        from sophia_cli.core.squad.llm import load_litellm

        load_litellm()
        gateway.wait_ready()
        asyncio.run(run(args, fake, gateway))
        bench_models(args.runs)
    finally:
        gateway.stop()
        teardown()
        fake.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
