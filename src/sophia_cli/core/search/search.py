"""Search over what sync indexed: BM25, dense vectors, or both fused (the default).

Milvus ranks: BM25 on the `sparse` field it derives from `text`, cosine on the `dense`
vectors of the offline embedder. `hybrid` asks Milvus for both rankings and fuses them here
(reciprocal rank fusion by default, weighted scores when SEARCH_FUSION=weighted) rather than
with Milvus' own hybrid_search: fusing here keeps each ranking's score for `--json`, and lets
a dense match below SEARCH_DENSE_FLOOR drop out instead of filling the page with texts that
share neither a word nor a meaning with the query. Filters are Milvus expressions over the
unit's fields, so they apply before ranking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sophia_cli.core.errors import InputError, ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.sources import SEARCHABLE as SOURCES
from sophia_cli.store import milvus

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")
SNIPPET_CHARS = 180
RRF_K = 60
_FIELDS = ["id", "source", "kind", "author", "author_name", "affiliation", "place",
           "place_name", "ts", "url", "text", "context"]  # fmt: skip

# "what did customers say", "from prospects": people outside the company, i.e. external speakers.
_AUDIENCE = re.compile(
    r"\b(?:(?:from|by|of) (?:our )?(?:customers?|prospects?|clients?|buyers?)\b"
    r"|(?:customers?|prospects?|clients?|buyers?)(?= (?:say|said|saying|says|think|thought|"
    r"feel|felt|mention|mentioned|tell|told|ask|asked|complain|complained|want|wanted)\b))",
    re.IGNORECASE,
)


class SearchHit(BaseModel):
    """One matching unit with who said it, where, when, and how it ranked."""

    id: str
    source: str
    kind: str
    author: str
    author_id: str
    affiliation: str
    place: str
    place_id: str
    time: datetime | None
    url: str
    snippet: str
    context: str
    score: float
    scores: dict[str, float] = Field(default_factory=dict)  # each ranking's own score


class SearchFilters(BaseModel):
    """What narrows a search: each one a Milvus expression over the unit's fields."""

    source: str | None = None
    author: str | None = None
    place: str | None = None
    since: date | None = None
    until: date | None = None
    external_only: bool = False


def build_filters(
    *,
    source: str | None = None,
    author: str | None = None,
    channel: str | None = None,
    call: str | None = None,
    since: date | None = None,
    until: date | None = None,
    external_only: bool = False,
) -> SearchFilters:
    """The filters of the CLI's and the API's options: a channel is Slack's, a call Gong's."""
    if channel and call:
        raise InputError("--channel and --call cannot be combined", hint="Pick one of them.")
    if channel or call:
        wanted = "slack" if channel else "gong"
        if source not in (None, wanted):
            option = "channel" if channel else "call"
            raise InputError(f"--{option} searches {wanted} only", hint=f"Drop --source {source}.")
        source = wanted
    return SearchFilters(source=source, author=author, place=channel or call, since=since,
                         until=until, external_only=external_only)  # fmt: skip


class SearchResults(BaseModel):
    """Hits for one search, best first, with the mode and filters that produced them."""

    query: str
    mode: Mode
    fusion: str | None = None
    filters: SearchFilters
    time_phrase: str | None = None
    hits: list[SearchHit] = Field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class Query:
    """A search text with the phrases that were filters taken out of it."""

    text: str
    filters: SearchFilters
    time_phrase: str | None = None


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """A window of `text` around the first query word it contains."""
    flat = " ".join(text.split())
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 2]
    at = min((i for w in words if (i := flat.lower().find(w)) >= 0), default=0)
    start = max(0, at - width // 3)
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def understand(text: str, filters: SearchFilters, as_of: date | None = None) -> Query:
    """Take time phrases ("last month") and audiences ("customers said") out of the text.

    They become filters through the same time grammar as `ask`; explicit options win.
    """
    from sophia_cli.core.bi import timephrases

    flat = " ".join(text.split())
    phrase = None
    found = timephrases.find(flat.lower(), timephrases.Calendar(as_of=as_of or date.today()))
    if found is not None:
        time_range, (start, end) = found
        flat = " ".join((flat[:start] + " " + flat[end:]).split())
        phrase = time_range.phrase
        since, until = filters.since or time_range.start, filters.until or time_range.end
        filters = filters.model_copy(update={"since": since, "until": until})
    if _AUDIENCE.search(flat):
        filters = filters.model_copy(update={"external_only": True})
    return Query(text=flat or text, filters=filters, time_phrase=phrase)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "\\%").replace("_", "\\_")


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def expression(filters: SearchFilters) -> str:
    """The Milvus filter expression of `filters` ("" for none)."""
    clauses = []
    if filters.source:
        clauses.append(f'source == "{filters.source}"')
    if filters.author:
        clauses.append(f'author_key like "%{_quote(filters.author.lower())}%"')
    if filters.place:
        clauses.append(f'place_key like "%{_quote(filters.place.lower().lstrip("#"))}%"')
    if filters.since:
        clauses.append(f"ts >= {_epoch(filters.since)}")
    if filters.until:
        clauses.append(f"ts < {_epoch(filters.until)}")
    if filters.external_only:
        clauses.append('affiliation == "external"')
    return " and ".join(clauses)


def _hit(entity: dict[str, Any], query: str, scores: dict[str, float], score: float) -> SearchHit:
    ts = entity.get("ts")
    return SearchHit(
        id=str(entity.get("id")),
        source=str(entity.get("source", "")),
        kind=str(entity.get("kind", "")),
        author=str(entity.get("author_name") or entity.get("author") or ""),
        author_id=str(entity.get("author", "")),
        affiliation=str(entity.get("affiliation", "")),
        place=str(entity.get("place_name", "")),
        place_id=str(entity.get("place", "")),
        time=datetime.fromtimestamp(int(ts), tz=UTC) if ts else None,
        url=str(entity.get("url", "")),
        snippet=snippet(str(entity.get("text", "")), query),
        context=snippet(str(entity.get("context", "")), query),
        score=round(score, 4),
        scores={name: round(value, 4) for name, value in scores.items()},
    )


def _check(text: str, mode: str, filters: SearchFilters, limit: int) -> None:
    if not text.strip():
        raise InputError("the search text is empty", hint='Try sophia search "pricing".')
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}", hint=f"Use one of: {', '.join(MODES)}.")
    if filters.source is not None and filters.source not in SOURCES:
        raise InputError(
            f"unknown source {filters.source!r}", hint=f"Use one of: {', '.join(SOURCES)}."
        )
    if filters.since and filters.until and filters.since >= filters.until:
        raise InputError("--since must be before --until")
    if not 1 <= limit <= 100:
        raise InputError("--limit must be between 1 and 100")


Ranked = dict[str, tuple[dict[str, Any], float]]  # id -> (entity, score), best first


def _ranked(found: Any) -> Ranked:
    return {str(raw["entity"]["id"]): (raw["entity"], float(raw["distance"]))
            for raw in (found[0] if found else [])}  # fmt: skip


def _bm25(client: Any, text: str, flt: str, depth: int) -> Ranked:
    found = client.search(
        milvus.TEXT_COLLECTION, data=[text], anns_field="sparse", limit=depth, filter=flt,
        output_fields=_FIELDS, search_params={"metric_type": "BM25"},
    )  # fmt: skip
    # BM25 is never negative; Milvus Lite reports it negated, as a distance.
    return {i: (entity, abs(score)) for i, (entity, score) in _ranked(found).items()}


def _dense(client: Any, settings: Settings, text: str, flt: str, depth: int) -> Ranked:
    from sophia_cli.core.search.embed import embedder

    emb = embedder(settings)
    built = milvus.collection_signature(client)
    if built != emb.signature:
        raise InputError(
            f"the search index holds vectors of {built or 'no embedder'}, "
            f"and SEARCH_EMBEDDING now gives {emb.signature}",
            hint="Run `sophia db reindex` to rebuild the vectors, or use --mode bm25.",
        )
    found = client.search(
        milvus.TEXT_COLLECTION, data=emb.embed([text]), anns_field="dense", limit=depth,
        filter=flt, output_fields=_FIELDS, search_params={"metric_type": "COSINE"},
    )  # fmt: skip
    # Below the floor a text shares no meaning with the query: it is not a hit at all.
    floor = settings.search_dense_floor
    return {i: (e, score) for i, (e, score) in _ranked(found).items() if score >= floor}


def _fusion(settings: Settings) -> tuple[str, float]:
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


def _run(
    client: Any, settings: Settings, query: Query, mode: Mode, limit: int
) -> tuple[list[SearchHit], str | None]:
    """The hits for `query` under `mode`, and the fusion used (hybrid only)."""
    flt = expression(query.filters)
    if mode == "bm25":
        ranked = _bm25(client, query.text, flt, limit)
        return [_hit(e, query.text, {"bm25": s}, s) for e, s in ranked.values()], None
    if mode == "dense":
        ranked = _dense(client, settings, query.text, flt, limit)
        return [_hit(e, query.text, {"dense": s}, s) for e, s in ranked.values()], None
    fusion, dense_weight = _fusion(settings)
    depth = max(limit * 5, 50)
    bm25 = _bm25(client, query.text, flt, depth)
    dense = _dense(client, settings, query.text, flt, depth)
    hits = []
    for key, score in fuse(bm25, dense, settings.search_fusion, dense_weight)[:limit]:
        entity = (bm25.get(key) or dense[key])[0]
        scores = {name: ranking[key][1] for name, ranking in (("bm25", bm25), ("dense", dense))
                  if key in ranking}  # fmt: skip
        hits.append(_hit(entity, query.text, scores, score))
    return hits, fusion


def search(
    settings: Settings,
    text: str,
    *,
    mode: Mode = "hybrid",
    filters: SearchFilters | None = None,
    limit: int = 10,
    as_of: date | None = None,
) -> SearchResults:
    """The best `limit` units for `text` under `filters`, ranked by `mode`."""
    filters = filters or SearchFilters()
    _check(text, mode, filters, limit)
    query = understand(text, filters, as_of)
    results = SearchResults(query=query.text, mode=mode, filters=query.filters,
                            time_phrase=query.time_phrase)  # fmt: skip
    client = milvus.client(settings)
    try:
        if not client.has_collection(milvus.TEXT_COLLECTION):
            results.note = "nothing is indexed yet: run `sophia sync` first"
            return results
        client.load_collection(milvus.TEXT_COLLECTION)
        results.hits, results.fusion = _run(client, settings, query, mode, limit)
    except (ServiceUnavailableError, InputError):
        raise
    except Exception as exc:  # pymilvus raises many unrelated types
        raise ServiceUnavailableError(f"Milvus search failed: {exc}") from exc
    finally:
        client.close()
    return results
