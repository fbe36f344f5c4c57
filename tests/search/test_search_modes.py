"""`--mode bm25|dense|hybrid`: Milvus ranks by words, by meaning, or both fused."""

from __future__ import annotations

import json

import pytest
from search_world import PRICE_OBJECTION

from sophia_cli.core.errors import InputError
from sophia_cli.core.search.search import search
from sophia_cli.core.settings import Settings, load_settings


def test_hybrid_is_the_default_and_fuses_weighted_scores(world: Settings) -> None:
    results = search(world, "pricing objection")
    assert (results.mode, results.fusion) == ("hybrid", "weighted bm25=0.5 dense=0.5")
    assert PRICE_OBJECTION in [hit.id for hit in results.hits[:2]]
    scores = [hit.score for hit in results.hits]
    assert scores == sorted(scores, reverse=True)
    assert set(results.hits[0].scores) == {"bm25", "dense"}  # found by both rankings


def test_bm25_only_returns_texts_sharing_a_word(world: Settings) -> None:
    results = search(world, "onboarding", mode="bm25")
    assert results.fusion is None
    assert {hit.id for hit in results.hits} == {"gong:g2:0", "gong:g2:7000"}
    assert all(hit.score > 0 for hit in results.hits)


def test_dense_matches_below_the_floor_are_no_hits(world: Settings) -> None:
    dense = search(world, "pricing objection", mode="dense")
    assert dense.hits and all(hit.score >= 0.2 for hit in dense.hits)
    assert "slack:C2:1777723200.000000" not in {hit.id for hit in dense.hits}  # lunch


def test_dense_finds_a_paraphrase_that_shares_no_word(world: Settings) -> None:
    assert search(world, "overpriced", mode="bm25").hits == []
    dense = search(world, "overpriced", mode="dense")
    assert dense.hits[0].place == "Acme renewal"  # the call where the price was discussed


def test_rank_fusion_and_the_weight_are_configurable(
    world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_FUSION", "rrf")
    monkeypatch.setenv("SEARCH_DENSE_WEIGHT", "0.3")
    results = search(load_settings(), "pricing objection")
    assert results.fusion == "rrf k=60 bm25=0.7 dense=0.3"
    assert results.hits[0].id == PRICE_OBJECTION


def test_a_dense_weight_outside_zero_to_one_is_refused(
    world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_FUSION", "weighted")
    monkeypatch.setenv("SEARCH_DENSE_WEIGHT", "1.5")
    with pytest.raises(InputError, match="SEARCH_DENSE_WEIGHT"):
        search(load_settings(), "pricing")


def test_json_output_carries_the_mode_and_each_hits_score(world: Settings, sophia) -> None:  # type: ignore[no-untyped-def]
    result = sophia("search", "pricing objection", "--mode", "bm25", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["mode"] == "bm25"
    assert body["hits"][0]["id"] == PRICE_OBJECTION and body["hits"][0]["score"] > 0


def test_an_unknown_mode_is_one_line_without_traceback(world: Settings, sophia) -> None:  # type: ignore[no-untyped-def]
    result = sophia("search", "pricing", "--mode", "semantic")
    assert result.exit_code != 0
    assert "--mode 'semantic' is not a mode" in result.stderr
    assert "Traceback" not in result.stderr


def test_search_before_any_sync_says_so(stores_env: dict[str, str], sophia) -> None:  # type: ignore[no-untyped-def]
    result = sophia("search", "pricing")
    assert result.exit_code == 0
    assert "run `sophia sync` first" in result.stderr
