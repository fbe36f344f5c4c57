"""Benchmark the BI page's API routes over real HTTP on loopback, against `GET /v1/me`.

Run: .venv/bin/python bench/bi_api.py [--count 300]

Sequential requests on one keep-alive connection to a `sophia serve` process (one worker)
over the ask tests' fixture company: median and P95 of each route the page calls while
someone types or a dashboard refreshes. `GET /v1/me` (token check and rate-limit count, no
store) is the same-run baseline: the ratios are the figures on a shared machine. The target
for suggestions is under 20 ms warm. Stores as in bench/serve.py (BENCH_DATABASE_URL,
BENCH_REDIS_URL, else embedded servers in a temp SOPHIA_HOME).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve import AS_OF, setup_stores, start_sophia, stop  # noqa: E402

QUESTION = "won revenue by owner last quarter"
TARGET_SUGGEST_MS = 20.0
ROUNDS = 5


def timings_ms(client: httpx.Client, method: str, path: str, body: Any, count: int) -> list[float]:
    """`count` sequential requests after 20 warm-ups; each must succeed."""
    found = []
    for index in range(count + 20):
        started = time.perf_counter()
        response = client.request(method, path, json=body)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code >= 300:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if index >= 20:
            found.append(elapsed)
    return found


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="sophia-bench-"))
    os.environ["SOPHIA_HOME"] = str(home)
    os.environ["JWT_SECRET"] = secrets.token_hex(40)
    os.environ["RATE_LIMIT_PER_MINUTE"] = str(10**9)  # measure serving, not refusing
    teardown = setup_stores(home)
    from sophia_cli.core.auth.tokens import Scope, issue_token
    from sophia_cli.core.settings import load_settings

    token = issue_token(load_settings(), "bench", [Scope.ASK], 3600)
    ask = {"question": QUESTION, "as_of": AS_OF.isoformat()}
    scenarios: list[tuple[str, str, str, Any]] = [
        ("GET /v1/me (baseline)", "GET", "/v1/me", None),
        ("GET /v1/ask/suggest?q=", "GET", "/v1/ask/suggest?q=", None),
        ("GET /v1/ask/suggest?q=won", "GET", "/v1/ask/suggest?q=won", None),
        ("GET /v1/ask/suggest?q=acme", "GET", "/v1/ask/suggest?q=acme", None),
        ("GET /v1/data-version", "GET", "/v1/data-version", None),
        ("GET /v1/pins", "GET", "/v1/pins", None),
        ("POST /v1/ask (cached)", "POST", "/v1/ask", ask),
        ("POST /v1/ask.csv (cached)", "POST", "/v1/ask.csv", ask),
    ]
    print(
        f"loopback, 1 worker, {args.count} sequential keep-alive requests each, "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f})"
    )
    try:
        server, url = start_sophia(1, home)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                client.post("/v1/pins", json={"question": QUESTION})
                found: dict[str, list[float]] = {label: [] for label, *_ in scenarios}
                # Rounds interleave the routes, so a burst of load on the shared machine
                # falls on all of them rather than on one.
                for _ in range(ROUNDS):
                    for label, method, path, body in scenarios:
                        found[label] += timings_ms(client, method, path, body, args.count // ROUNDS)
                baseline = summary(found[scenarios[0][0]])[0]
                for label, values in found.items():
                    median, p95 = summary(values)
                    print(
                        f"  {label:<30} median {median:6.2f} ms  P95 {p95:6.2f} ms  "
                        f"x{median / baseline:.1f} the baseline"
                    )
        finally:
            stop(server)
    finally:
        teardown()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
