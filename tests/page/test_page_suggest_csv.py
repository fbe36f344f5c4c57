"""Suggestions as you type (keyboard only) and the CSV download of the full result."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from page_helpers import PageServer, Visit


def test_suggestions_appear_as_you_type_and_are_chosen_with_the_keyboard(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask")))
    page = seen.page
    page.focus("#q")
    page.keyboard.type("won rev")
    # the list for what was typed, not the examples the empty box asked for on focus
    page.wait_for_selector("#suggestions[data-for='won rev']:not([hidden]) li")
    assert page.get_attribute("#q", "aria-expanded") == "true"
    first = page.locator("#suggestions li").first
    text = first.locator("span").first.inner_text()
    page.keyboard.press("ArrowDown")
    assert first.get_attribute("aria-selected") == "true"
    assert page.get_attribute("#q", "aria-activedescendant") == first.get_attribute("id")
    page.keyboard.press("Enter")
    assert page.input_value("#q").strip() == text
    assert page.is_hidden("#suggestions")


def test_csv_downloads_every_row_of_the_answer_with_the_bearer_token(
    visit: Callable[..., Visit], server: PageServer, tmp_path: Path
) -> None:
    seen = visit(server.link(server.token("ask")))
    page = seen.page
    page.fill("#q", "open deals by stage")
    page.press("#q", "Escape")
    page.press("#q", "Enter")
    page.wait_for_selector("#result:not([hidden])")
    shown = page.locator("#table tbody tr").count()
    with page.expect_download() as download_info:
        page.click("#csv")
    target = tmp_path / "answer.csv"
    download_info.value.save_as(target)
    assert download_info.value.suggested_filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(target.read_text())))
    assert len(rows) == shown + 1  # the header, then every row the table shows
    assert any(url.endswith("/v1/ask.csv") for url in seen.requests)


def test_an_empty_box_suggests_example_questions_and_one_asks_itself(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask")))
    page = seen.page
    page.focus("#q")
    page.wait_for_selector("#suggestions[data-for='']:not([hidden]) li")
    example = page.locator("#suggestions li").first.locator("span").first.inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result:not([hidden]), #refusal:not([hidden])")
    assert page.input_value("#q") == example
    assert page.is_visible("#result")  # an example the page offers is one it can answer
