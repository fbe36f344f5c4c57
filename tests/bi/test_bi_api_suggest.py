"""`GET /v1/ask/suggest`: what can be asked, matching what has been typed so far."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from serve_helpers import Api

from sophia_cli.core.bi.catalog import catalog
from sophia_cli.core.bi.semantic import layer_for
from sophia_cli.core.settings import Settings, load_settings


def _suggest(api: Api, token: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/v1/ask/suggest", token=token, params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["suggestions"]
    return found


def test_nothing_typed_suggests_the_example_questions_of_ask_list(
    api: Api, token: Callable[..., str], bi_settings: Settings
) -> None:
    examples = catalog(layer_for(bi_settings)).examples
    found = _suggest(api, token("ask"), q="", limit=50)
    assert [s["text"] for s in found] == examples
    assert {s["kind"] for s in found} == {"example"}


def test_a_word_prefix_suggests_the_metric_first(api: Api, token: Callable[..., str]) -> None:
    found = _suggest(api, token("ask"), q="WON REV")
    assert found[0] == {
        "text": "won revenue",
        "kind": "metric",
        "detail": found[0]["detail"],
    }
    assert "hubspot" in found[0]["detail"]


def test_a_metric_is_found_by_its_synonym(
    api: Api, token: Callable[..., str], bi_settings: Settings
) -> None:
    layer = layer_for(bi_settings)
    metric = next(m for m in layer.metrics.values() if m.synonyms)
    found = _suggest(api, token("ask"), q=metric.synonyms[0], limit=50)
    assert {"text": metric.label, "kind": "metric"}.items() <= next(
        s for s in found if s["text"] == metric.label
    ).items()


def test_a_dimension_is_suggested_with_its_other_names(api: Api, token: Callable[..., str]) -> None:
    found = _suggest(api, token("ask"), q="own", limit=50)
    owner = next(s for s in found if s["kind"] == "dimension" and s["text"] == "owner")
    assert owner["detail"] is None or owner["detail"].startswith("also: ")


def test_names_in_the_data_are_suggested_as_values(api: Api, token: Callable[..., str]) -> None:
    found = _suggest(api, token("ask"), q="acme")
    assert {"text": "Acme Corp", "kind": "value", "detail": "company"} in found


def test_a_substring_inside_a_word_matches_too(api: Api, token: Callable[..., str]) -> None:
    found = _suggest(api, token("ask"), q="lobe")
    assert any(s["text"] == "Globex" and s["kind"] == "value" for s in found)


def test_limit_caps_the_suggestions(api: Api, token: Callable[..., str]) -> None:
    assert len(_suggest(api, token("ask"), q="revenue", limit=3)) == 3


def test_nothing_matching_suggests_nothing(api: Api, token: Callable[..., str]) -> None:
    assert _suggest(api, token("ask"), q="zzqxv") == []


def test_a_limit_out_of_range_is_422(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/ask/suggest", token=token("ask"), params={"limit": 0})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_suggest_needs_the_ask_scope(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/ask/suggest", token=token("sync"), params={"q": "won"})
    assert response.status_code == 403


def test_a_name_matching_by_itself_comes_before_one_matching_by_a_synonym(
    api: Api, token: Callable[..., str]
) -> None:
    found = _suggest(api, token("ask"), q="won")
    assert found[0]["text"] == "won revenue"


def test_before_the_warehouse_is_set_up_the_layers_words_are_still_suggested(
    bi_env: dict[str, str],
    fresh_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    found = _suggest(make_api(load_settings()), token("ask"), q="won rev")
    assert found[0]["text"] == "won revenue"
    assert all(s["kind"] != "value" for s in found)


def test_names_written_by_a_new_sync_are_suggested(
    bi_env: dict[str, str],
    warehouse_url: str,
    monkeypatch: pytest.MonkeyPatch,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    import psycopg

    monkeypatch.setenv("DATABASE_URL", warehouse_url)
    api = make_api(load_settings())
    assert _suggest(api, token("ask"), q="zephyr") == []
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("INSERT INTO hubspot.companies (id, name) VALUES ('c9', 'Zephyr Labs')")
        conn.execute("INSERT INTO hubspot.deals (id, name, company_id) VALUES ('d9', 'X', 'c9')")
        conn.execute(
            "INSERT INTO sophia.sync_runs (run_id, source, stream, finished_at, status) "
            "VALUES ('r1', 'hubspot', 'companies', now(), 'success')"
        )
    assert {"text": "Zephyr Labs", "kind": "value", "detail": "company"} in _suggest(
        api, token("ask"), q="zephyr"
    )
