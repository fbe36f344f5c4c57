"""Asking in the browser: the answer, what was understood, the chart, the table, the SQL,
refusals with clickable suggestions, and `/?q=` links."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

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


def test_a_series_is_drawn_as_a_line(visit: Callable[..., Visit], server: PageServer) -> None:
    seen = visit(server.link(server.token("ask")))
    ask(seen, "won revenue by month")
    assert seen.page.get_attribute("#chart", "data-kind") == "line"
    assert seen.page.locator("#chart svg polyline").count() == 1


def test_a_series_places_its_points_by_date_so_a_missing_period_shows_as_a_gap(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    """Months with no rows are absent from an answer: drawn at even steps, January and June
    would sit side by side as if consecutive."""
    seen = visit(server.link(server.token("ask")))
    xs = seen.page.evaluate(
        """() => {
            const box = document.createElement("div");
            SophiaChart.render(box, ["month", "won"],
                [["2025-01-01", 1], ["2025-02-01", 2], ["2025-06-01", 3]]);
            return [...box.querySelectorAll("circle")].map((dot) => Number(dot.getAttribute("cx")));
        }"""
    )
    assert len(xs) == 3
    assert (xs[2] - xs[1]) > 3 * (xs[1] - xs[0])


def test_the_sql_is_behind_a_toggle(visit: Callable[..., Visit], server: PageServer) -> None:
    seen = visit(server.link(server.token("ask")))
    ask(seen, "open deals by stage")
    page = seen.page
    assert not page.is_visible("#sql")
    page.click("#sql-box summary")
    assert page.is_visible("#sql")
    assert "SELECT" in page.inner_text("#sql").upper()


def test_a_refusal_offers_its_suggestions_as_questions_that_can_be_asked(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask")))
    page = seen.page
    page.fill("#q", "revenue by favourite colour")
    page.press("#q", "Escape")
    page.press("#q", "Enter")
    page.wait_for_selector("#refusal:not([hidden])")
    assert page.inner_text("#refusal-message")
    suggestions = page.locator("#refusal-suggestions button")
    assert suggestions.count() >= 1
    first = suggestions.first.inner_text()
    suggestions.first.focus()
    page.keyboard.press("Enter")  # a suggestion is a button: usable from the keyboard
    page.wait_for_selector("#result:not([hidden])")
    assert page.is_hidden("#refusal")
    assert page.input_value("#q") == first


def test_a_q_link_opens_with_the_question_asked(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    question = "deals in the Enterprise pipeline"
    seen = visit(server.link(server.token("ask"), "/?q=" + quote(question)))
    page = seen.page
    page.wait_for_selector("#result:not([hidden])")
    assert page.input_value("#q") == question
    assert page.inner_text("#answer")
    assert page.get_attribute("#share", "href") == "/?q=" + quote(question)
    assert page.title() == f"{question} — sophia"


def test_it_reads_at_phone_width(visit: Callable[..., Visit], server: PageServer) -> None:
    seen = visit(server.link(server.token("ask")), width=390, height=844)
    ask(seen, "won revenue by owner")
    page = seen.page
    # nothing wider than the screen except inside the scrollable table
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390


def test_the_json_behind_an_answer_is_one_click_away(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask")))
    ask(seen, "open deals by stage")
    page = seen.page
    page.click("#json-box summary")
    shown = json.loads(page.inner_text("#json"))
    assert shown["answer"] == page.inner_text("#answer")
    assert shown["rows"] and shown["columns"] and shown["sql"]
