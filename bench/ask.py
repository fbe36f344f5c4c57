"""Benchmark `sophia ask`: per-stage timings and end-to-end CLI wall time, cold and cached.

Builds a throwaway warehouse with the test fixture company (or uses --database-url, e.g. one
filled by `sophia demo`), then for a set of questions measures in-process stages (values,
parse, compile, query, answer, render) and the CLI as a subprocess, cold (--no-cache) and
cached. The baseline measured in the same run is `sophia --version` (interpreter + CLI start).

Run: .venv/bin/python bench/ask.py [--database-url URL] [--as-of YYYY-MM-DD] [--repeat N]
     [--before-src ../other-checkout/src]

The CLI runs with bytecode caching on (PYTHONDONTWRITEBYTECODE dropped) after a warm-up, as
an installed package runs. `--before-src` also times another checkout's `src` (PYTHONPATH)
in the same rounds, for a before/after of one run.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "ask"))

QUESTIONS = [
    "won revenue last quarter",
    "won revenue by owner last quarter",
    "top 5 companies by won revenue this year",
    "win rate by month this year",
    "open deals by stage",
    "overdue tasks by assignee",
    "messages by channel past 30 days",
    "total call minutes by call owner this year",
    "compare won revenue this quarter vs last quarter",
    "deals over 50k closed last month",
    "list the deals we lost last month",
]
SOPHIA = str(ROOT / ".venv" / "bin" / "sophia")
# Another checkout's CLI under this interpreter: its src first on the path.
_FROM_SRC = """
import sys
sys.path.insert(0, {src!r})
from sophia_cli.cli.main import main
main()
"""


def _setup(admin_url: str) -> str:
    from ask_fixture_data import load

    from sophia_cli.store import migrations
    from sophia_cli.store.databases import create_database

    url = create_database(admin_url, prefix="sophia_bench_")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
    load(url)
    return url


def _wall(args: list[str], env: dict[str, str], src: str | None = None) -> float:
    command = [SOPHIA] if src is None else [sys.executable, "-c", _FROM_SRC.format(src=src)]
    started = time.perf_counter()
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise SystemExit(f"sophia {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed


def _render_ms(answer: object) -> float:
    from rich.console import Console

    from sophia_cli.cli import ask as cli_ask

    started = time.perf_counter()
    console = Console(file=io.StringIO(), width=120)
    console.print(cli_ask._understood(answer.interpretation, answer.source))  # type: ignore[attr-defined]
    console.print(cli_ask.output.table(None, answer.columns, answer.rows[:25]))  # type: ignore[attr-defined]
    cli_ask._chart(answer.interpretation, answer.columns, answer.rows)  # type: ignore[attr-defined]
    return (time.perf_counter() - started) * 1000


def _stages(as_of: date, repeat: int) -> tuple[float, float]:
    from sophia_cli.core.bi.ask import ask
    from sophia_cli.core.settings import load_settings

    settings = load_settings()
    started = time.perf_counter()
    ask(settings, QUESTIONS[0], as_of, use_cache=False)  # imports, the layer, the names
    first = (time.perf_counter() - started) * 1000
    print(f"first question of the process (imports, layer, names loaded): {first:.1f} ms")
    misses: list[float] = []
    hits: list[float] = []
    print(f"{'question':45} {'lookup':>7} {'values':>7} {'parse':>7} {'compile':>7} {'query':>7} "
          f"{'answer':>7} {'render':>7} {'cached':>7}  (ms, median of {repeat})")  # fmt: skip
    for question in QUESTIONS:
        runs = [ask(settings, question, as_of, use_cache=False) for _ in range(repeat)]
        cached = [ask(settings, question, as_of) for _ in range(repeat)]
        stages = ("lookup", "values", "parse", "compile", "query", "answer")
        med = [statistics.median(r.timings_ms.get(stage, 0.0) for r in runs) for stage in stages]
        render = statistics.median(_render_ms(r) for r in runs)
        hit = statistics.median(sum(c.timings_ms.values()) for c in cached)
        misses.append(statistics.median(sum(r.timings_ms.values()) for r in runs))
        hits.append(hit)
        cells = " ".join(f"{value:7.2f}" for value in [*med, render, hit])
        print(f"{question[:45]:45} {cells}")
    return statistics.median(misses), statistics.median(hits)


def _cli(
    as_of: date, env: dict[str, str], in_process: tuple[float, float], before: str | None
) -> None:
    env = {**env}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    runtime = tempfile.mkdtemp(prefix="sw-", dir="/tmp")  # short: it holds a unix socket
    envs = {
        "": {**env, "SOPHIA_WARM": "off"},
        "warm worker: ": {**env, "SOPHIA_WARM": "on", "XDG_RUNTIME_DIR": runtime},
    }
    sources: dict[str, str | None] = {"": None, "warm worker: ": None}
    if before:
        sources["before: "] = before
        envs["before: "] = envs[""]
    try:
        _cli_rounds(as_of, envs, sources, in_process)
    finally:
        _stop_workers(Path(runtime))
        shutil.rmtree(runtime, ignore_errors=True)


def _cli_rounds(
    as_of: date,
    envs: dict[str, dict[str, str]],
    sources: dict[str, str | None],
    in_process: tuple[float, float],
) -> None:
    for label, src in sources.items():  # warm-up: bytecode written, files in the page cache
        _wall(["--version"], envs[label], src)
        _wall(["ask", QUESTIONS[0], "--as-of", str(as_of), "--json", "--no-cache"],
              envs[label], src)  # fmt: skip
    _wait_for_worker(Path(envs["warm worker: "]["XDG_RUNTIME_DIR"]))
    versions: dict[str, list[float]] = {label: [] for label in sources}
    colds: dict[str, list[float]] = {label: [] for label in sources}
    hits: dict[str, list[float]] = {label: [] for label in sources}
    for question in QUESTIONS:  # interleaved, so load on the machine hits each alike
        for label, src in sources.items():
            asked = ["ask", question, "--as-of", str(as_of), "--json"]
            versions[label].append(_wall(["--version"], envs[label], src))
            colds[label].append(_wall([*asked, "--no-cache"], envs[label], src))
            _wall(asked, envs[label], src)  # fill the cache
            hits[label].append(_wall(asked, envs[label], src))
    baseline = statistics.median(versions[""])
    miss, hit_ms = in_process
    print(f"\nIn-process ask, median over {len(QUESTIONS)} questions (names loaded once):")
    for name, value in (("miss (--no-cache)", miss), ("hit (answer cache)", hit_ms)):
        print(f"  {name:29} {value:8.1f} ms  ({value / baseline:.2f}x `sophia --version`)")
    print(f"\nCLI wall time, median over {len(QUESTIONS)} questions (each against the "
          "--version of its own code, same rounds; the first lines answer in their own "
          "process, SOPHIA_WARM=off):")  # fmt: skip
    for label in sources:
        version = statistics.median(versions[label])
        cold, hit = statistics.median(colds[label]), statistics.median(hits[label])
        print(f"  {label}`sophia --version`   {version:8.1f} ms")
        print(
            f"  {label}ask, cold (--no-cache)        {cold:8.1f} ms  "
            f"({cold / version:.2f}x its --version, {cold / baseline:.2f}x the current one)"
        )
        print(
            f"  {label}ask, cached                   {hit:8.1f} ms  "
            f"({hit / version:.2f}x its --version, {hit / cold:.2f}x cold)"
        )
        print(f"  {label}cold max {max(colds[label]):.1f} ms, "
              f"cached max {max(hits[label]):.1f} ms")  # fmt: skip


def _wait_for_worker(runtime: Path) -> None:
    """The first warm-up question started a worker; wait until it listens."""
    deadline = time.monotonic() + 30
    while not list((runtime / "sophia").glob("*.sock")):
        if time.monotonic() > deadline:
            raise SystemExit(f"no warm worker started under {runtime}; see its .log there")
        time.sleep(0.1)


def _stop_workers(runtime: Path) -> None:
    import signal

    for pid_file in (runtime / "sophia").glob("*.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        except (OSError, ValueError):
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an existing warehouse (default: a throwaway one)")
    parser.add_argument("--as-of", default="2026-07-15", help="pinned today (default 2026-07-15)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before-src", help="another checkout's src folder, timed alongside")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="sophia-bench-ask-"))
    os.environ.setdefault("SOPHIA_HOME", str(home))
    from sophia_cli.core.settings import load_settings
    from sophia_cli.store import postgres, redis

    base = load_settings()
    admin_url = os.environ.get("BENCH_ADMIN_URL") or postgres.resolve_url(base)
    url = args.database_url or _setup(admin_url)
    os.environ.update(DATABASE_URL=url, REDIS_URL=redis.resolve_url(base),
                      REDIS_KEY_PREFIX=f"sophia-bench-{uuid.uuid4().hex[:8]}:")  # fmt: skip
    try:
        as_of = date.fromisoformat(args.as_of)
        _cli(as_of, dict(os.environ), _stages(as_of, args.repeat), args.before_src)
    finally:
        if not args.database_url:
            from sophia_cli.store.databases import drop_database

            drop_database(admin_url, url)
        if os.environ["SOPHIA_HOME"] == str(home):  # our throwaway home: stop its servers
            from sophia_cli.store import embedded_postgres, embedded_redis

            embedded_postgres.stop(home)
            embedded_redis.stop(home)


if __name__ == "__main__":
    main()
