"""`ask` sends "what are people saying about X" questions to search (tested in tests/search)."""

from __future__ import annotations

import json


def test_ask_sends_what_are_people_saying_questions_to_search(
    search_env: None, company_env: dict[str, str], sophia
) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "what are people saying about pricing since June 2026", "--json",
                    "--as-of", "2026-07-15")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["interpretation"]["search"] == "pricing"
    assert body["interpretation"]["since"] == "2026-06-01"
    assert body["interpretation"]["mode"] == "hybrid"
    assert sorted(row[0] for row in body["rows"]) == ["gong", "slack"]
    assert body["columns"] == ["source", "author", "time", "snippet", "url"]


def test_ask_about_what_customers_said_last_month_keeps_their_words_of_that_month(
    search_env: None, company_env: dict[str, str], sophia
) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "what did customers say about pricing last month", "--json",
                    "--as-of", "2026-07-15")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["interpretation"]["external_only"] is True
    assert (body["interpretation"]["since"], body["interpretation"]["until"]) == (
        "2026-06-01", "2026-07-01")  # fmt: skip
    assert [(row[0], row[1]) for row in body["rows"]] == [("gong", "Tom Baker")]
