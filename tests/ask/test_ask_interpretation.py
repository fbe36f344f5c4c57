"""`Answer.interpretation` is typed by the core and only rendered by the faces.

One model per way of answering, told apart by `kind`; the JSON keeps every key scripts read
before it was typed (a web page and the blind harness read them) and adds `kind`. The CLI's
chart follows the core's shape of the rows (series, ranking) instead of re-deriving it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from ask_fixture_data import AS_OF

from sophia_cli.core.bi import cache
from sophia_cli.core.bi.ask import ask
from sophia_cli.core.bi.interpretation import SemanticInterpretation
from sophia_cli.core.settings import Settings

# The keys of the untyped interpretation that scripts were given before it was typed.
SEMANTIC_KEYS = {
    "metrics", "dated_by", "keep_unassigned", "words", "dimensions", "filters", "time_range",
    "compare_to", "share", "conditions", "list", "missing", "measure_filters", "metric_filters",
    "grain", "order", "limit", "parser", "freshness", "truncated", "notes",
}  # fmt: skip
SEARCH_KEYS = {"search", "since", "until", "external_only", "mode", "parser", "note"}


def _json(sophia: Any, *args: str) -> dict[str, Any]:
    result = sophia("ask", *args, "--as-of", AS_OF.isoformat(), "--json", "--no-cache")
    assert result.exit_code == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_a_semantic_answer_keeps_every_key_and_adds_its_kind(
    sophia: Any, company_env: dict[str, str]
) -> None:
    body = _json(sophia, "list the deals we lost last quarter")
    interp = body["interpretation"]
    assert set(interp) == SEMANTIC_KEYS | {"kind"}
    assert interp["kind"] == "semantic" and interp["list"] is True
    assert set(interp["time_range"]) == {"phrase", "start", "end", "dates"}


def test_a_search_answer_keeps_its_keys_and_says_it_is_search(
    search_env: None, company_env: dict[str, str], sophia: Any
) -> None:
    interp = _json(sophia, "what are people saying about pricing")["interpretation"]
    assert set(interp) == SEARCH_KEYS | {"kind"} and interp["kind"] == "search"


def test_a_cached_answer_comes_back_with_its_typed_interpretation(settings: Settings) -> None:
    first = ask(settings, "won revenue by owner last quarter", AS_OF)
    key = cache.cache_key(settings, "typed-roundtrip")
    cache.put(settings, key, first)
    again = cache.get(settings, key)
    assert again is not None and isinstance(again.interpretation, SemanticInterpretation)
    assert again.interpretation == first.interpretation


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        ("won revenue last quarter", "single"),
        ("won revenue by month this year", "series"),
        ("won revenue by owner this year", "ranking"),
        ("won revenue by owner by month this year", "breakdown"),
        ("list the deals we lost last quarter", "list"),
    ],
)
def test_the_core_says_what_shape_the_rows_have(
    settings: Settings, question: str, shape: str
) -> None:
    interp = ask(settings, question, AS_OF, use_cache=False).interpretation
    assert isinstance(interp, SemanticInterpretation) and interp.shape() == shape


@pytest.mark.parametrize(
    ("question", "charted"),
    [
        ("won revenue by month this year", True),
        ("won revenue by owner this year", True),
        ("won revenue by owner by month this year", False),
        ("list the deals we lost last quarter", False),
    ],
)
def test_the_cli_charts_series_and_rankings_only(
    sophia: Any, company_env: dict[str, str], question: str, charted: bool
) -> None:
    result = sophia("ask", question, "--as-of", AS_OF.isoformat(), "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert ("│█" in result.stdout) is charted
