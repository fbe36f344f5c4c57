"""Screenshots of the BI page for the README, taken on the demo warehouse in headless Chromium.

Run: [BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres] \
     [BENCH_REDIS_URL=redis://127.0.0.1:6379/0] .venv/bin/python bench/screenshots.py

Writes docs/screenshots/page-ask.png (an answer at 1280 px), page-dashboard.png (pinned
cards and the operations panels of an admin token) and page-phone.png (an answer at 390 px).
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page_demo import CHROMIUM, demo_server  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ASKED = "won revenue by month"
PINNED = ["won revenue by owner", "open deals by stage", "won revenue by month",
          "overdue tasks by project"]  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with demo_server() as server:
        token = server.token("admin", sub="dana")
        headers = {"Authorization": f"Bearer {token}"}
        # The worker's first answer pays for its imports and pool (as in bench/page.py).
        httpx.post(server.url + "/v1/ask", json={"question": "deals"}, headers=headers, timeout=30)
        for question in PINNED:
            httpx.post(server.url + "/v1/pins", json={"question": question}, headers=headers)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(server.link(token, "/?q=" + quote(ASKED)))
            page.wait_for_selector("body[data-ready=true]")
            page.click("#sql-box summary")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(OUT / "page-ask.png"))
            board = browser.new_page(viewport={"width": 1280, "height": 1150})
            board.goto(server.link(token))  # no question: the dashboard is under the box
            board.wait_for_selector("body[data-ready=true]")
            board.screenshot(path=str(OUT / "page-dashboard.png"))
            phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            phone.goto(server.link(token, "/?q=" + quote("won revenue by owner")))
            phone.wait_for_selector("body[data-ready=true]")
            phone.screenshot(path=str(OUT / "page-phone.png"))
            browser.close()
    for name in ("page-ask.png", "page-dashboard.png", "page-phone.png"):
        print(f"wrote docs/screenshots/{name} ({(OUT / name).stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
