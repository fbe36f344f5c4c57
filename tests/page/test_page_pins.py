"""Pinned questions: pin an answer as a card, the dashboard, unpin, and the refresh after a sync."""

from __future__ import annotations

import threading
from collections.abc import Callable

from page_helpers import Demo, PageServer, Visit


def _ask(visit: Visit, question: str) -> None:
    page = visit.page
    page.fill("#q", question)
    page.press("#q", "Escape")
    page.press("#q", "Enter")
    page.wait_for_selector("#result:not([hidden])")


def _sync_hubspot(demo: Demo) -> None:
    """A real sync from the sandbox, in a thread of its own (the browser's event loop runs in
    the test's thread and the sync starts one of its own)."""
    from sophia_cli.core.sync.demo import sandbox_settings
    from sophia_cli.core.sync.run import run_sync

    failures: list[BaseException] = []

    def run() -> None:
        try:
            report = run_sync(sandbox_settings(demo.settings, demo.sandbox.env), ["hubspot"])
            assert report.ok, report
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=120)
    if failures:
        raise failures[0]


def test_pinning_an_answer_adds_a_card_that_answers_it_and_unpinning_removes_it(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask", sub="pinner")))
    page = seen.page
    assert page.locator("#cards .card").count() == 0
    _ask(seen, "won revenue by owner")
    page.click("#pin")
    card = page.locator("#cards .card")
    card.first.wait_for()
    assert card.count() == 1
    assert card.first.locator("h3").inner_text() == "won revenue by owner"
    assert "led by" in card.first.locator(".answer").inner_text()
    assert card.first.locator("svg rect.bar-rect").count() >= 2
    page.reload()  # the cards are stored on the server, not in the page
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#cards .card").count() == 1
    page.click("#cards .card button")
    page.wait_for_selector("#cards .card", state="detached")
    assert page.is_visible("#dashboard-empty")


def test_pins_are_per_subject(visit: Callable[..., Visit], server: PageServer) -> None:
    mine = visit(server.link(server.token("ask", sub="first-person")))
    _ask(mine, "open deals by stage")
    mine.page.click("#pin")
    mine.page.locator("#cards .card").first.wait_for()
    theirs = visit(server.link(server.token("ask", sub="second-person")))
    assert theirs.page.locator("#cards .card").count() == 0


def test_the_dashboard_refreshes_its_cards_after_a_sync(
    visit: Callable[..., Visit], server: PageServer, demo: Demo
) -> None:
    seen = visit(server.link(server.token("ask", sub="watcher"), "/?every=1"))
    page = seen.page
    _ask(seen, "open deals by stage")
    page.click("#pin")
    card = page.locator("#cards .card").first
    card.wait_for()
    # Predicates are functions, not expressions: an expression is eval'd, which the CSP forbids.
    page.wait_for_function("() => document.querySelector('#cards .card').dataset.version")
    before = card.get_attribute("data-version")
    _sync_hubspot(demo)
    page.wait_for_function(
        "v => { const c = document.querySelector('#cards .card');"
        " return c && c.dataset.version && c.dataset.version !== v; }",
        arg=before,
        timeout=20000,
    )
    page.wait_for_selector("#status:has-text('refreshed')")
    assert page.locator("#cards .card .answer").count() == 1


def test_asking_and_pinning_work_from_the_keyboard_alone(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask", sub="keyboard-only")))
    page = seen.page
    for _ in range(10):  # Tab until the question box has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("open deals by stage")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result:not([hidden])")
    for _ in range(30):  # on through the answer to the pin button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "pin":
            break
    assert page.evaluate("document.activeElement.id") == "pin"
    page.keyboard.press("Enter")
    page.locator("#cards .card").first.wait_for()
    assert page.locator("#cards .card h3").inner_text() == "open deals by stage"
