"""Benchmark the BI page: time to the first answer in a real browser, on the demo warehouse.

Run: [BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres] \
     [BENCH_REDIS_URL=redis://127.0.0.1:6379/0] .venv/bin/python bench/page.py [--repeat 3]

For each question, a fresh browser context opens `/?q=QUESTION#token=…` (a shared link) and
the clock runs from navigation start until the answer is on screen (the page records
`performance.now()` then: HTML, CSS, two scripts, `/v1/me`, `/v1/pins`, `/v1/ask`, render).
The same-run baseline is the bare `POST /v1/ask` round trip over HTTP (httpx, keep-alive) for
the same question. "cold" is the first time a question is asked (answer cache empty); "cached"
is the next; a last row opens the same links for a token with four pinned cards. Headless
Debian Chromium through Playwright; the server is one uvicorn worker.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page_demo import CHROMIUM, DemoServer, demo_server  # noqa: E402

QUESTIONS = [
    "won revenue by owner",
    "open deals by stage",
    "won revenue by month",
    "top 5 companies by won revenue",
    "overdue tasks by project",
    "deals in the Enterprise pipeline",
]
PINNED = QUESTIONS[:4]
# Where the time to the first answer goes, from navigation start (every visit).
STAGES: dict[str, list[float]] = {"request sent": [], "page received": [], "scripts run": []}
ASSETS = ["/", "/assets/app.js", "/assets/chart.js", "/assets/style.css", "/assets/favicon.svg"]


def _api_ms(client: httpx.Client, question: str, use_cache: bool) -> float:
    started = time.perf_counter()
    response = client.post("/v1/ask", json={"question": question, "use_cache": use_cache})
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    return elapsed


def _browser_ms(browser: object, server: DemoServer, token: str, question: str) -> float:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(server.link(token, "/?q=" + quote(question)))
        page.wait_for_selector("body[data-first-answer-ms]", timeout=30000)
        timing = page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [n.requestStart, n.responseEnd, n.domContentLoadedEventEnd]; }"
        )
        STAGES["request sent"].append(timing[0])
        STAGES["page received"].append(timing[1])
        STAGES["scripts run"].append(timing[2])
        return float(page.get_attribute("body", "data-first-answer-ms"))
    finally:
        context.close()


def _summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.0f} ms   max {max(values):7.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="cached visits per question")
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with demo_server(scale=args.scale) as server:
        token = server.token("ask")
        headers = {"Authorization": f"Bearer {token}"}
        weight = sum(len(httpx.get(server.url + path).content) for path in ASSETS)
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            client.post("/v1/ask", json={"question": "deals"}).raise_for_status()  # warm the worker
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                page_cold = [_browser_ms(browser, server, token, q) for q in QUESTIONS]
                api_cold = [_api_ms(client, q, use_cache=False) for q in QUESTIONS]
                page_cached, api_cached = [], []
                for _ in range(args.repeat):
                    page_cached += [_browser_ms(browser, server, token, q) for q in QUESTIONS]
                    api_cached += [_api_ms(client, q, use_cache=True) for q in QUESTIONS]
                # Someone with a dashboard: the shared question goes first, then the cards.
                pinner = server.token("ask", sub="has-a-dashboard")
                for question in PINNED:
                    client.post(
                        "/v1/pins",
                        json={"question": question},
                        headers={"Authorization": f"Bearer {pinner}"},
                    ).raise_for_status()
                page_pinned = [
                    _browser_ms(browser, server, pinner, q)
                    for _ in range(args.repeat)
                    for q in QUESTIONS
                ]
                browser.close()
    print(f"demo warehouse (scale {args.scale}), {len(QUESTIONS)} questions, page weight "
          f"{weight / 1024:.1f} KiB uncompressed")  # fmt: skip
    print(f"first answer in the browser, cold   : {_summary(page_cold)}")
    print(f"baseline POST /v1/ask, recomputed   : {_summary(api_cold)}")
    print(f"first answer in the browser, cached : {_summary(page_cached)}")
    print(f"baseline POST /v1/ask, cached       : {_summary(api_cached)}")
    print(f"first answer, {len(PINNED)} cards pinned, cached: {_summary(page_pinned)}")
    stages = ", ".join(f"{name} {statistics.median(v):.0f} ms" for name, v in STAGES.items())
    print(f"median stages from navigation start: {stages}")
    overhead = statistics.median(page_cached) - statistics.median(api_cached)
    print(f"page overhead over the bare round trip (cached medians): {overhead:.0f} ms")


if __name__ == "__main__":
    main()
