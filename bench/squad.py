"""Benchmark the squad router's overhead per call, and `sophia squad models` wall time.

Run: .venv/bin/python bench/squad.py [--calls N]

A fake OpenAI-compatible server on 127.0.0.1 (tests/squad/fake_llm.py) answers instantly.
The baseline, measured in the same run, is a direct `litellm.completion` to that server;
the router's overhead is what it adds on a cache miss (plan, Redis cooldown read, cache
lookup, budget reserve + settle in Lua, spend-log INSERT, cache store) and the whole cost of
a cache hit. Stores: PostgreSQL from BENCH_DATABASE_URL (an admin URL; a scratch database is
created and dropped) else an embedded server in a temp SOPHIA_HOME; Redis from
BENCH_REDIS_URL else embedded Valkey there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "squad"))

from fake_llm import FakeServer  # noqa: E402

SQUADS = """
squads:
  litellm:
    primary: true
    deployments:
      - {{name: cheap, model: openai/cheap, api_base: "{url}", api_key_env: OPENAI_API_KEY,
         capabilities: [chat], input_cost_per_mtok: 0.15, output_cost_per_mtok: 0.6}}
"""


def timed(function: Callable[[int], object], count: int) -> list[float]:
    """Milliseconds per call for `count` calls of function(i)."""
    samples = []
    for index in range(count):
        started = time.perf_counter()
        function(index)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def describe(name: str, samples: list[float]) -> float:
    median = statistics.median(samples)
    p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
    print(f"  {name:<34} median {median:7.2f} ms   p95 {p95:7.2f} ms   (n={len(samples)})")
    return median


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


def bench_calls(fake: FakeServer, calls: int) -> None:
    from sophia_cli.core.settings import load_settings
    from sophia_cli.core.squad import pricing, router
    from sophia_cli.core.squad.request import CompletionRequest

    pricing.litellm_env()
    import litellm

    litellm.suppress_debug_info = True
    settings = load_settings()

    def messages(index: int, tag: str) -> list[dict[str, object]]:
        return [{"role": "user", "content": f"{tag} question number {index}"}]

    def direct(index: int) -> object:
        return litellm.completion(
            model="openai/cheap",
            api_base=fake.url,
            api_key="sk-bench",
            max_tokens=20,
            messages=messages(index, "direct"),
            num_retries=0,
            max_retries=0,
        )

    def miss(index: int) -> object:
        return router.complete(
            settings, CompletionRequest(messages=messages(index, "miss"), max_tokens=20)
        )

    def hit(index: int) -> object:
        answer = router.complete(
            settings, CompletionRequest(messages=messages(0, "miss"), max_tokens=20)
        )
        assert answer.cache_hit
        return answer

    for warm in (direct, miss):  # connections, pools, imports
        timed(warm, 5)
    print(f"per call, {calls} calls each, fake server on 127.0.0.1:")
    base = describe("direct litellm.completion", timed(direct, calls))
    routed = describe("router.complete, cache miss", timed(lambda i: miss(i + 1000), calls))
    cached = describe("router.complete, cache hit", timed(hit, calls))
    print(f"  router overhead on a miss: {routed - base:+.2f} ms ({routed / base:.2f}x direct)")
    print(f"  a cache hit costs {cached / base:.2f}x a direct call ({base / cached:.1f}x faster)")


def bench_models(runs: int) -> None:
    """Wall time of `sophia squad models --json` vs `import litellm` alone, as subprocesses."""

    def wall(args: list[str]) -> float:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(args, check=True, capture_output=True)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1000

    env_python = sys.executable
    models = wall([env_python, "-m", "sophia_cli", "squad", "models", "--json"])
    imported = wall([env_python, "-c", "import litellm"])
    bare = wall([env_python, "-c", "pass"])
    print(f"process wall time, median of {runs}:")
    print(f"  python -c pass                     {bare:7.0f} ms")
    print(f"  sophia squad models --json         {models:7.0f} ms")
    print(
        f"  python -c 'import litellm'         {imported:7.0f} ms   "
        f"(models is {imported / models:.1f}x faster: it never imports litellm)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    os.environ.update(
        SOPHIA_HOME=str(home), OPENAI_API_KEY="sk-bench", LITELLM_LOCAL_MODEL_COST_MAP="True"
    )
    fake = FakeServer().start()
    squads = home / "squads.yaml"
    squads.write_text(SQUADS.format(url=fake.url))
    os.environ["SOPHIA_SQUADS_FILE"] = str(squads)
    teardown = setup_stores(home)
    try:
        bench_calls(fake, args.calls)
        bench_models(args.runs)
    finally:
        teardown()
        fake.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
