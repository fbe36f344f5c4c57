"""Browser fixtures: the demo warehouse, a real `sophia serve` over it, headless Chromium.

The demo (sandbox APIs → sync → warehouse, scale 0.1) is built once per session and the
sandbox keeps running, so a test can sync again and watch the page notice. The browser is
Debian's `chromium` driven by Playwright's pip driver: nothing is downloaded. Without that
binary every test that needs the browser is skipped with the reason; CI installs it (.ci/run).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from page_helpers import Demo, PageServer, Visit

from sophia_cli.core.settings import load_settings
from sophia_cli.store.databases import create_database, drop_database

CHROMIUM = os.environ.get("SOPHIA_TEST_CHROMIUM", "/usr/bin/chromium")
SECRET = "page-" + "9f8e7d6c5b4a" * 6
SEED, SCALE = 7, 0.1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which(CHROMIUM) is None:
        skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        for item in items:
            if "browser" in getattr(item, "fixturenames", ()):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def demo(
    pg_admin_url: str,
    warehouse_template: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Demo]:
    from sophia_cli.core.sync.demo import run_demo
    from sophia_cli.sandbox.api.app import start_sandbox
    from sophia_cli.store import embedded_milvus

    url = create_database(pg_admin_url, prefix="sophia_page_", template=warehouse_template)
    home: Path = tmp_path_factory.mktemp("page-home")
    settings = load_settings(
        database_url=url, redis_url=redis_url, redis_key_prefix="sophia-test-page:",
        sophia_home=home, jwt_secret=SECRET,
    )  # fmt: skip
    with start_sandbox(seed=SEED, scale=SCALE, rate_limits="off") as sandbox:
        report = run_demo(settings, sandbox.env, sandbox.base_url, seed=SEED, scale=SCALE)
        assert report.sync.ok, report.sync
        yield Demo(settings=settings, sandbox=sandbox, url=url)
    drop_database(pg_admin_url, url)
    embedded_milvus.stop(home)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(
    demo: Demo, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PageServer]:
    port = _free_port()
    log = tmp_path_factory.mktemp("page-serve") / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SOPHIA_", "DATABASE_"))},
        "JWT_SECRET": SECRET,
        "DATABASE_URL": demo.url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"sophia-test-page-{port}:",
        "SOPHIA_HOME": str(demo.settings.sophia_home),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "sophia_cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"), start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"serve did not start: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield PageServer(url=url, settings=demo.settings, process=process, log=log)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def browser(server: PageServer) -> Iterator[Any]:
    """One browser per module, started after the server. Playwright's sync API keeps an event
    loop running in this thread while it is open: code that calls asyncio.run (a sync) runs
    in another thread meanwhile, and the loop must be gone before the next test directory."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def visit(browser: Any, server: PageServer) -> Iterator[Callable[..., Visit]]:
    """`visit(url)` opens `url` in a fresh browser context (its own session storage)."""
    contexts: list[Any] = []

    def open_page(
        url: str, *, width: int = 1280, height: int = 900, wait_ready: bool = True
    ) -> Visit:
        context = browser.new_context(
            viewport={"width": width, "height": height}, accept_downloads=True
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        seen = Visit(page=page, requests=[], dialogs=[], errors=[])
        page.on("request", lambda request: seen.requests.append(request.url))
        page.on("pageerror", lambda error: seen.errors.append(str(error)))

        def on_dialog(dialog: Any) -> None:
            seen.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url)
        if wait_ready:
            page.wait_for_selector("body[data-ready=true]")
        return seen

    yield open_page
    for context in contexts:
        context.close()
