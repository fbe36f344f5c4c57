"""Fusing the BM25 and dense rankings of a hybrid search into one."""

from __future__ import annotations

from typing import Any

from sophia_cli.core.errors import InputError
from sophia_cli.core.settings import Settings

RRF_K = 60
Ranked = dict[str, tuple[dict[str, Any], float]]  # id -> (entity, score), best first


def fusion_of(settings: Settings) -> tuple[str, float]:
    dense = settings.search_dense_weight
    if not 0.0 <= dense <= 1.0:
        raise InputError("SEARCH_DENSE_WEIGHT must be between 0 and 1", hint="E.g. 0.5.")
    if settings.search_fusion == "weighted":
        return f"weighted bm25={1 - dense:g} dense={dense:g}", dense
    return f"rrf k={RRF_K} bm25={1 - dense:g} dense={dense:g}", dense


def fuse(bm25: Ranked, dense: Ranked, how: str, dense_weight: float) -> list[tuple[str, float]]:
    """One ranking from two: reciprocal rank fusion, or weighted normalised scores.

    RRF adds weight/(k + rank) over the rankings a text appears in, so it needs no common
    scale; weighted adds weight * score with BM25 divided by its best score of this query.
    """
    weights = {"bm25": 1.0 - dense_weight, "dense": dense_weight}
    fused: dict[str, float] = {}
    if how == "rrf":
        for name, ranking in (("bm25", bm25), ("dense", dense)):
            for rank, key in enumerate(ranking, start=1):
                fused[key] = fused.get(key, 0.0) + weights[name] / (RRF_K + rank)
    else:
        top = max((score for _, score in bm25.values()), default=1.0) or 1.0
        for key, (_, score) in bm25.items():
            fused[key] = fused.get(key, 0.0) + weights["bm25"] * score / top
        for key, (_, score) in dense.items():
            fused[key] = fused.get(key, 0.0) + weights["dense"] * score
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
