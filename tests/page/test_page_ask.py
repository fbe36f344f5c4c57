"""Asking in the browser: the answer, what was understood, the chart, the table, the SQL,
refusals with clickable suggestions, and `/?q=` links."""

from __future__ import annotations

from collections.abc import Callable

from page_helpers import PageServer, Visit


def ask(visit: Visit, question: str) -> None:
    page = visit.page
    page.fill("#q", question)
    page.press("#q", "Escape")  # close any suggestions so Enter asks what was typed
    page.press("#q", "Enter")
    page.wait_for_function(
        "q => document.querySelector('#answer').textContent && !document.querySelector('#result')"
        ".hidden && history.state === null && location.search === '?q=' + encodeURIComponent(q)",
        arg=question,
    )


def test_an_answer_shows_its_sentence_understanding_chart_table_and_freshness(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask")))
    ask(seen, "won revenue by owner")
    page = seen.page
    assert "led by" in page.inner_text("#answer")
    understood = page.inner_text("#understood")
    assert "Metric" in understood and "won revenue" in understood.lower()
    assert page.locator("#chart svg rect.bar-rect").count() >= 2
    headers = page.locator("#table thead th").all_inner_texts()
    assert len(headers) == 2
    assert page.locator("#table tbody tr").count() >= 2
    assert "hubspot" in page.inner_text("#freshness")
    assert seen.errors == []
