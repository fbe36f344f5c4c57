"""Full-text search over what sync indexed (Slack messages, Gong transcripts, Asana tasks).

BM25 ranking is done by Milvus on the `sparse` field it derives from `text`. Dense vectors
are not used yet: hybrid ranking needs an embedding deployment, which the squad does not
configure today, so `mode` is always "bm25".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sophia_cli.core.errors import InputError, ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.sources import SEARCHABLE as SOURCES
from sophia_cli.core.sync.sources import people_sql
from sophia_cli.store import milvus

SNIPPET_CHARS = 180
_FIELDS = ["id", "source", "kind", "author", "ts", "url", "text"]


class SearchHit(BaseModel):
    """One matching text with where it came from."""

    id: str
    source: str
    kind: str
    author: str
    time: datetime | None
    url: str
    snippet: str
    score: float


class SearchResults(BaseModel):
    """Hits for one search, best first."""

    query: str
    source: str | None
    since: date | None
    mode: Literal["bm25"] = "bm25"
    hits: list[SearchHit] = Field(default_factory=list)
    note: str | None = None


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """A window of `text` around the first query word it contains."""
    flat = " ".join(text.split())
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 2]
    at = min((i for w in words if (i := flat.lower().find(w)) >= 0), default=0)
    start = max(0, at - width // 3)
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def _filter(source: str | None, since: date | None) -> str:
    clauses = []
    if source:
        clauses.append(f'source == "{source}"')
    if since:
        epoch = int(datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp())
        clauses.append(f"ts >= {epoch}")
    return " and ".join(clauses)


def _hit(raw: dict[str, Any], query: str) -> SearchHit:
    entity = raw.get("entity", raw)
    ts = entity.get("ts")
    return SearchHit(
        id=str(entity.get("id") or raw.get("id")),
        source=str(entity.get("source", "")),
        kind=str(entity.get("kind", "")),
        author=str(entity.get("author", "")),
        time=datetime.fromtimestamp(int(ts), tz=UTC) if ts else None,
        url=str(entity.get("url", "")),
        snippet=snippet(str(entity.get("text", "")), query),
        score=round(float(raw.get("distance", 0.0)), 4),
    )


def search(
    settings: Settings,
    text: str,
    *,
    source: str | None = None,
    since: date | None = None,
    limit: int = 10,
) -> SearchResults:
    """BM25 hits for `text`, optionally from one source and since a day."""
    if not text.strip():
        raise InputError("the search text is empty", hint='Try sophia search "pricing".')
    if source is not None and source not in SOURCES:
        raise InputError(f"unknown source {source!r}", hint=f"Use one of: {', '.join(SOURCES)}.")
    if not 1 <= limit <= 100:
        raise InputError("--limit must be between 1 and 100")
    results = SearchResults(query=text, source=source, since=since)
    client = milvus.client(settings)
    try:
        if not client.has_collection(milvus.TEXT_COLLECTION):
            results.note = "nothing is indexed yet: run `sophia sync` first"
            return results
        client.load_collection(milvus.TEXT_COLLECTION)
        found = client.search(
            collection_name=milvus.TEXT_COLLECTION, data=[text], anns_field="sparse",
            limit=limit, filter=_filter(source, since), output_fields=_FIELDS,
            search_params={"metric_type": "BM25", "params": {"drop_ratio_search": 0.0}},
        )  # fmt: skip
    except ServiceUnavailableError:
        raise
    except Exception as exc:  # pymilvus raises many unrelated types
        raise ServiceUnavailableError(f"Milvus search failed: {exc}") from exc
    finally:
        client.close()
    results.hits = [_hit(raw, text) for raw in (found[0] if found else [])]
    _name_authors(settings, results.hits)
    return results


_NAMES_SQL = people_sql()


def _name_authors(settings: Settings, hits: list[SearchHit]) -> None:
    """Replace author ids (Slack, Asana, Gong speakers) by people's names from the warehouse.

    Best effort: without a reachable warehouse the ids stay.
    """
    from sophia_cli.core.bi.execute import Reader
    from sophia_cli.core.errors import SophiaError

    ids = sorted({hit.author for hit in hits if hit.author})
    if not ids:
        return
    try:
        with Reader(settings) as reader:
            _, rows, _ = reader.fetch(_NAMES_SQL, {"ids": ids})
    except SophiaError:
        return
    names = {str(row[0]): str(row[1]) for row in rows if row[1]}
    for hit in hits:
        hit.author = names.get(hit.author, hit.author)
