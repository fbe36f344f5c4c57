"""Safe by construction: warehouse values are text, and nothing leaves the server's origin."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
from page_helpers import Demo, PageServer, Visit

HOSTILE = "<img src=x onerror=alert(1)>"


def _rename_top_company(demo: Demo) -> None:
    """The company with the most won revenue gets a name that is markup."""
    with psycopg.connect(demo.url) as conn:
        conn.execute(
            "UPDATE hubspot.companies SET name = %s WHERE id = ("
            " SELECT d.company_id FROM hubspot.deals d WHERE d.is_won AND NOT d.archived"
            " AND d.company_id IS NOT NULL GROUP BY 1 ORDER BY sum(d.amount) DESC LIMIT 1)",
            (HOSTILE,),
        )


def test_a_company_named_like_markup_shows_as_text_and_runs_nothing(
    visit: Callable[..., Visit], server: PageServer, demo: Demo
) -> None:
    _rename_top_company(demo)
    seen = visit(server.link(server.token("ask")))
    page = seen.page
    page.fill("#q", "companies by won revenue")
    page.press("#q", "Escape")
    page.press("#q", "Enter")
    page.wait_for_selector("#result:not([hidden])")
    assert HOSTILE in page.inner_text("#table")
    assert page.locator("#result img").count() == 0
    assert page.locator("#chart svg title", has_text=HOSTILE).count() == 1
    page.wait_for_timeout(300)
    assert seen.dialogs == []
    assert seen.errors == []


def test_no_request_leaves_the_servers_origin(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("admin")))
    page = seen.page
    page.fill("#q", "won revenue by owner")
    page.press("#q", "Escape")
    page.press("#q", "Enter")
    page.wait_for_selector("#result:not([hidden])")
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in seen.requests}
    assert origins == {server.url}
    assert any(url.endswith("/v1/ask") for url in seen.requests)


def test_the_browser_enforces_the_policy_an_injected_inline_script_does_not_run(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask")))
    page = seen.page
    blocked = page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation",
                (event) => resolve(event.effectiveDirective), { once: true });
            const script = document.createElement("script");
            script.textContent = "window.__ran = true";
            document.body.appendChild(script);
        })"""
    )
    assert blocked == "script-src-elem"
    assert page.evaluate("window.__ran === undefined")
