"""Search over what sync indexed: BM25, dense vectors, or both fused (the default).

Milvus ranks: BM25 on the `sparse` field it derives from `text`, cosine on the `dense`
vectors of the offline embedder. `hybrid` asks Milvus for both rankings and fuses them here
(`fusion.py`: weighted scores by default, reciprocal rank fusion when SEARCH_FUSION=rrf) rather
than with Milvus' own hybrid_search: fusing here keeps each ranking's score for `--json`, and lets
a dense match below SEARCH_DENSE_FLOOR drop out instead of filling the page with texts that
share neither a word nor a meaning with the query. Filters are Milvus expressions over the
unit's fields, so they apply before ranking; "what customers said" is read in `voice.py`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sophia_cli.core.errors import InputError, ServiceUnavailableError
from sophia_cli.core.search.fusion import Ranked, fuse, fusion_of
from sophia_cli.core.search.voice import SAID, audience_topic
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.sources import SEARCHABLE as SOURCES
from sophia_cli.store import milvus

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")
SNIPPET_CHARS = 180
_FIELDS = ["id", "source", "kind", "author", "author_name", "affiliation", "place",
           "place_name", "ts", "url", "text", "context"]  # fmt: skip


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
    voice: bool = False  # the words asked for customers' voice (external speakers)
    said: bool = False  # the words ask for something said (an objection, feedback), not a task


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
    voice, topic = audience_topic(flat)
    if voice:
        filters = filters.model_copy(update={"external_only": True})
        flat = topic
    said = voice or bool(SAID.search(text))
    return Query(text=flat or text, filters=filters, time_phrase=phrase, voice=voice, said=said)


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


def _ranked(found: Any) -> Ranked:
    return {str(raw["entity"]["id"]): (raw["entity"], float(raw["distance"]))
            for raw in (found[0] if found else [])}  # fmt: skip


def _bm25(client: Any, text: str, flt: str, depth: int, *, vectors: bool = False) -> Ranked:
    found = client.search(
        milvus.TEXT_COLLECTION, data=[text], anns_field="sparse", limit=depth, filter=flt,
        output_fields=_FIELDS + ["dense"] * vectors, search_params={"metric_type": "BM25"},
    )  # fmt: skip
    # BM25 is never negative; Milvus Lite reports it negated, as a distance.
    return {i: (entity, abs(score)) for i, (entity, score) in _ranked(found).items()}


class QueryVectors:
    """Query texts as dense vectors: the index's embedder checked once, each text embedded once
    per search (a hybrid search asks for the same text's vector several times)."""

    def __init__(self, client: Any, settings: Settings) -> None:
        self._client, self._settings = client, settings
        self._embed: Any = None
        self._memo: dict[str, list[float]] = {}
        self.floor = settings.search_dense_floor

    def __call__(self, text: str) -> list[float]:
        if self._embed is None:
            from sophia_cli.core.search.embed import embedder

            emb = embedder(self._settings)
            built = milvus.collection_signature(self._client)
            if built != emb.signature:
                raise InputError(
                    f"the search index holds vectors of {built or 'no embedder'}, "
                    f"and SEARCH_EMBEDDING now gives {emb.signature}",
                    hint="Run `sophia db reindex` to rebuild the vectors, or use --mode bm25.",
                )
            self._embed = emb.embed
        if text not in self._memo:
            self._memo[text] = self._embed([text])[0]
        return self._memo[text]


def _dense(client: Any, vectors: QueryVectors, text: str, flt: str, depth: int) -> Ranked:
    found = client.search(
        milvus.TEXT_COLLECTION, data=[vectors(text)], anns_field="dense", limit=depth,
        filter=flt, output_fields=_FIELDS, search_params={"metric_type": "COSINE"},
    )  # fmt: skip
    # Below the floor a text shares no meaning with the query: it is not a hit at all.
    return {i: (e, score) for i, (e, score) in _ranked(found).items() if score >= vectors.floor}


# Objections, complaints, feedback are said by people; a task is an artefact that may share the
# words ("pricing objection" vs the task "Fix pricing page copy", whose name and notes repeat
# "pricing"). When the words ask for something said, tasks keep this share of their score.
ARTEFACT_PRIOR = 0.5


def _prior(entity: dict[str, Any], query: Query) -> float:
    return ARTEFACT_PRIOR if query.said and entity.get("source") == "asana" else 1.0


def _split(flt: str, query: Query) -> list[str]:
    """The filters to rank under: tasks apart when a prior applies, so they cannot fill the
    whole candidate depth (fifty tasks naming "pricing" three times each) before it is applied."""
    if not query.said or query.filters.source:
        return [flt]
    return [" and ".join(c for c in (flt, f'source {op} "asana"') if c) for op in ("!=", "==")]


def _bm25_all(
    client: Any, text: str, flts: list[str], depth: int, *, vectors: bool = False
) -> Ranked:
    return {
        k: v for flt in flts for k, v in _bm25(client, text, flt, depth, vectors=vectors).items()
    }


def _dense_all(
    client: Any, vectors: QueryVectors, text: str, flts: list[str], depth: int
) -> Ranked:
    return {k: v for flt in flts for k, v in _dense(client, vectors, text, flt, depth).items()}


def _among(flt: str, keys: list[str]) -> str:
    quoted = ", ".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)
    return " and ".join(c for c in (flt, f"id in [{quoted}]") if c)


def _complete(
    client: Any, vectors: QueryVectors, query: Query, flt: str, bm25: Ranked, dense: Ranked
) -> None:
    """Score every candidate under both rankings (weighted fusion adds the two scores).

    Each ranking returns its best `depth` units only, and the demo's hundreds of copies of one
    sentence fill that depth: a unit in the dense top 50 but 51st for BM25 would count as
    sharing no word with the query. BM25 is asked again over the dense candidates; the BM25
    candidates came with their vectors, so their cosine is computed here.
    """
    if missing := [key for key in dense if key not in bm25]:
        bm25.update(_bm25(client, query.text, _among(flt, missing), len(missing)))
    wanted = vectors(query.text)
    for key, (entity, _) in bm25.items():
        if key not in dense and (cos := _cosine(wanted, entity.get("dense"))) >= vectors.floor:
            dense[key] = (entity, cos)


def _cosine(a: list[float], b: Any) -> float:
    if not b:
        return -1.0
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a) * sum(float(y) * float(y) for y in b))
    return dot / norm if norm else -1.0


def _run(
    client: Any, settings: Settings, vectors: QueryVectors, query: Query, mode: Mode, limit: int
) -> tuple[list[SearchHit], str | None]:
    """The hits for `query` under `mode`, and the fusion used (hybrid only)."""
    flts = _split(expression(query.filters), query)
    depth = max(limit * 5, 50)
    if mode != "hybrid":
        ranked = (_bm25_all(client, query.text, flts, depth) if mode == "bm25"
                  else _dense_all(client, vectors, query.text, flts, depth))  # fmt: skip
        scored = sorted(((e, s * _prior(e, query), s) for e, s in ranked.values()),
                        key=lambda item: -item[1])  # fmt: skip
        return [_hit(e, query.text, {mode: raw}, s) for e, s, raw in scored[:limit]], None
    fusion, dense_weight = fusion_of(settings)
    weighted = settings.search_fusion == "weighted"
    bm25 = _bm25_all(client, query.text, flts, depth, vectors=weighted)
    dense = _dense_all(client, vectors, query.text, flts, depth)
    if weighted:
        _complete(client, vectors, query, expression(query.filters), bm25, dense)
    fused = [(key, score * _prior((bm25.get(key) or dense[key])[0], query))
             for key, score in fuse(bm25, dense, settings.search_fusion, dense_weight)]  # fmt: skip
    hits = []
    for key, score in sorted(fused, key=lambda item: (-item[1], item[0]))[:limit]:
        entity = (bm25.get(key) or dense[key])[0]
        scores = {name: ranking[key][1] for name, ranking in (("bm25", bm25), ("dense", dense))
                  if key in ranking}  # fmt: skip
        hits.append(_hit(entity, query.text, scores, score))
    return hits, fusion


# A customer-voice search keeps external speakers only while they said something about the
# topic about as closely as anyone did: an external turn shares a topic word, or its meaning is
# at least VOICE_DENSE_RATIO of the best match over every speaker. Below that, customers said
# nothing on it, and the search says so and shows everyone's hits instead of the external turns
# that merely come least far. (Topic words only: "the", "and" would make every turn a match.)
VOICE_DENSE_RATIO = 0.45
_STOP = frozenset(
    "a an and the of to in on for with at by from is are was were be it this that what who how "
    "when where which do did does we our us they their i you your has have had will would can "
    "could should about not no or but as so if".split()
)


def _best(client: Any, vectors: QueryVectors, query: Query, mode: Mode,
          filters: SearchFilters) -> tuple[float, float]:  # fmt: skip
    """The best BM25 score over the topic's content words, and the best cosine, under `filters`."""
    flt = expression(filters)
    content = " ".join(w for w in re.findall(r"\w+", query.text.lower()) if w not in _STOP)
    bm25 = dense = 0.0
    if content and mode != "dense":
        bm25 = max((s for _, s in _bm25(client, content, flt, 1).values()), default=0.0)
    if mode != "bm25":
        dense = max((s for _, s in _dense(client, vectors, query.text, flt, 1).values()),
                    default=0.0)  # fmt: skip
    return bm25, dense


def _customers_spoke(client: Any, vectors: QueryVectors, query: Query, mode: Mode) -> bool:
    """Whether external speakers said something on the topic (see VOICE_DENSE_RATIO)."""
    bm25, dense = _best(client, vectors, query, mode, query.filters)
    if bm25 > 0:
        return True
    everyone = query.filters.model_copy(update={"external_only": False})
    _, dense_all = _best(client, vectors, query, mode, everyone)
    return dense > 0 and dense >= VOICE_DENSE_RATIO * dense_all


def search(
    settings: Settings,
    text: str,
    *,
    mode: Mode = "hybrid",
    filters: SearchFilters | None = None,
    limit: int = 10,
    as_of: date | None = None,
    voice: bool = False,
) -> SearchResults:
    """The best `limit` units for `text` under `filters`, ranked by `mode`.

    `voice` says the caller read "what customers said" in words of its own (ask's parser):
    external speakers only, widened with a note when they said nothing on it, like the same
    words in `text`; an explicit `filters.external_only` is never widened.
    """
    filters = filters or SearchFilters()
    _check(text, mode, filters, limit)
    query = understand(text, filters, as_of)
    if voice and not query.voice:
        external = query.filters.model_copy(update={"external_only": True})
        query = Query(text=query.text, filters=external, time_phrase=query.time_phrase,
                      voice=True, said=True)  # fmt: skip
    client = milvus.client(settings)
    note = None
    try:
        if not client.has_collection(milvus.TEXT_COLLECTION):
            return SearchResults(
                query=query.text,
                mode=mode,
                filters=query.filters,
                time_phrase=query.time_phrase,
                note="nothing is indexed yet: run `sophia sync` first",
            )
        client.load_collection(milvus.TEXT_COLLECTION)
        vectors = QueryVectors(client, settings)
        if (
            query.voice
            and not filters.external_only
            and not _customers_spoke(client, vectors, query, mode)
        ):
            note = (f"no customer or prospect (external speaker) said anything about "
                    f"'{query.text}': these hits are from every speaker")  # fmt: skip
            everyone = query.filters.model_copy(update={"external_only": False})
            query = Query(text=query.text, filters=everyone, time_phrase=query.time_phrase,
                          said=True)  # fmt: skip
        hits, fusion = _run(client, settings, vectors, query, mode, limit)
    except (ServiceUnavailableError, InputError):
        raise
    except Exception as exc:  # pymilvus raises many unrelated types
        raise ServiceUnavailableError(f"Milvus search failed: {exc}") from exc
    finally:
        client.close()
    return SearchResults(query=query.text, mode=mode, fusion=fusion, filters=query.filters,
                         time_phrase=query.time_phrase, hits=hits, note=note)  # fmt: skip
