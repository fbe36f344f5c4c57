"""`sophia search`: BM25 over the Milvus text collection that sync fills."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from sophia_cli.core.errors import InputError
from sophia_cli.core.search.search import search, snippet
from sophia_cli.core.settings import load_settings


def test_search_ranks_texts_that_mention_the_words(search_env: None) -> None:
    results = search(load_settings(), "pricing objection")
    ids = [hit.id for hit in results.hits]
    assert ids[0] == "gong:call1:0"
    assert set(ids) == {"gong:call1:0", "slack:C1:1", "asana:t1"}
    assert results.mode == "bm25"


def test_search_filters_by_source_and_since(search_env: None) -> None:
    settings = load_settings()
    assert [h.id for h in search(settings, "pricing", source="slack").hits] == ["slack:C1:1"]
    since = datetime(2026, 6, 15).date()
    assert [h.id for h in search(settings, "pricing", since=since).hits] == ["slack:C1:1"]


def test_search_cli_prints_json_with_source_author_time_and_snippet(
    search_env: None, sophia
) -> None:  # type: ignore[no-untyped-def]
    result = sophia("search", "enterprise tier", "--json")
    assert result.exit_code == 0, result.stderr
    hit = json.loads(result.stdout)["hits"][0]
    assert (hit["source"], hit["author"], hit["time"]) == (
        "gong", "Priya Shah", "2026-06-10T00:00:00Z")  # fmt: skip
    assert "enterprise tier" in hit["snippet"]


def test_search_before_any_sync_says_so(sophia) -> None:  # type: ignore[no-untyped-def]
    result = sophia("search", "pricing")
    assert result.exit_code == 0
    assert "run `sophia sync` first" in result.stderr


@pytest.mark.parametrize(("text", "source"), [("", None), ("pricing", "hubspot")])
def test_search_rejects_bad_input(search_env: None, text: str, source: str | None) -> None:
    with pytest.raises(InputError):
        search(load_settings(), text, source=source)


def test_search_names_authors_from_the_warehouse(search_env: None) -> None:
    hits = search(load_settings(), "lunch noon").hits
    assert [(h.id, h.author) for h in hits] == [("slack:C1:2", "Sam Ortiz")]  # s2 in slack.users


def test_snippet_is_a_window_around_the_first_match() -> None:
    text = "word " * 100 + "pricing matters " + "tail " * 100
    piece = snippet(text, "pricing")
    assert "pricing matters" in piece and piece.startswith("…") and piece.endswith("…")


def test_ask_sends_what_are_people_saying_questions_to_search(
    search_env: None, company_env: dict[str, str], sophia
) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "what are people saying about pricing since June 2026", "--json",
                    "--as-of", "2026-07-15")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["interpretation"]["search"] == "pricing"
    assert body["interpretation"]["since"] == "2026-06-01"
    assert sorted(row[0] for row in body["rows"]) == ["gong", "slack"]
    assert body["columns"] == ["source", "author", "time", "snippet", "url"]
