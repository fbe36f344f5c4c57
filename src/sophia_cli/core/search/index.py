"""Keep the search collection equal to the warehouse's live units.

`refresh` reconciles one source: units that are new or changed (by fingerprint) are embedded
and upserted, units whose record is gone, deleted or tombstoned are deleted. Sync calls it
at the end of each source's run, so the run that marks a record deleted also removes it
from search. `reindex` drops the collection and rebuilds every source (after an embedder
change, or on demand with `sophia db reindex`).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

from pydantic import BaseModel, Field

from sophia_cli.core.errors import ServiceUnavailableError, SophiaError
from sophia_cli.core.search.embed import Embedder, embedder
from sophia_cli.core.search.units import CONTEXT_WEIGHT, Unit, read_units, warehouse_state
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.sources import SEARCHABLE as SOURCES
from sophia_cli.store import milvus

_BATCH = 512
_QUERY_BATCH = 4000


class SourceIndexed(BaseModel):
    """What one source's refresh changed in the collection."""

    source: str
    units: int = 0
    upserted: int = 0
    deleted: int = 0
    unchanged: bool = False  # nothing the units read was written since the last refresh


class IndexReport(BaseModel):
    """The outcome of a refresh or a re-index."""

    embedder: str
    rebuilt: bool = False
    sources: list[SourceIndexed] = Field(default_factory=list)
    duration_s: float = 0.0


def _clip(value: str, limit: int) -> str:
    # Milvus limits VARCHAR in bytes; cut on bytes, never inside a character.
    data = value.encode()
    return value if len(data) <= limit else data[:limit].decode(errors="ignore")


def _row(unit: Unit, vector: list[float], signature: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": unit.id, "source": unit.source, "kind": unit.kind, "author": unit.author,
        "author_name": unit.author_name, "author_key": unit.author_name.lower(),
        "affiliation": unit.affiliation, "place": unit.place, "place_name": unit.place_name,
        "place_key": unit.place_name.lower(), "url": unit.url, "context": unit.context,
        "fingerprint": unit.fingerprint(signature),
    }  # fmt: skip
    row = {k: _clip(str(v), milvus.TEXT_FIELDS[k]) for k, v in row.items()}
    row.update(ts=unit.ts, text=_clip(unit.text, milvus.TEXT_MAX_LENGTH), dense=vector)
    return row


def _indexed(client: Any, source: str) -> dict[str, str]:
    """{id: fingerprint} of the units of `source` now in the collection."""
    found: dict[str, str] = {}
    # Milvus Lite sends no MVCC timestamp, so pymilvus warns on stderr at every listing that
    # it uses the client's clock, which is what we want: the warning only clutters output.
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)
    iterator = client.query_iterator(
        milvus.TEXT_COLLECTION, batch_size=_QUERY_BATCH, filter=f'source == "{source}"',
        output_fields=["id", "fingerprint"],
    )  # fmt: skip
    try:
        while batch := iterator.next():
            found.update((str(row["id"]), str(row["fingerprint"])) for row in batch)
    finally:
        iterator.close()
    return found


def _quoted(ids: list[str]) -> str:
    return (
        "[" + ", ".join('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in ids) + "]"
    )


def _unit_length(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def unit_vectors(emb: Embedder, units: list[Unit]) -> list[list[float]]:
    """Each unit's dense vector: its own words, plus CONTEXT_WEIGHT of its conversation."""
    texts = [unit.embedding_texts() for unit in units]
    own = emb.embed([text for text, _ in texts])
    with_context = [i for i, (_, context) in enumerate(texts) if context.strip()]
    around = emb.embed([texts[i][1] for i in with_context]) if with_context else []
    vectors = [_unit_length(vector) for vector in own]
    for i, context in zip(with_context, around, strict=True):
        ctx = _unit_length(context)
        vectors[i] = _unit_length(
            [a + CONTEXT_WEIGHT * b for a, b in zip(vectors[i], ctx, strict=True)]
        )
    return vectors


def index_units(client: Any, emb: Embedder, source: str, units: list[Unit]) -> SourceIndexed:
    """Make `source`'s units in the collection exactly `units` (embedding only what changed)."""
    signature = emb.signature
    present = _indexed(client, source)
    wanted = {unit.id: unit for unit in units}
    changed = [u for u in units if present.get(u.id) != u.fingerprint(signature)]
    for at in range(0, len(changed), _BATCH):
        batch = changed[at : at + _BATCH]
        vectors = unit_vectors(emb, batch)
        client.upsert(
            milvus.TEXT_COLLECTION,
            [_row(u, v, signature) for u, v in zip(batch, vectors, strict=True)],
        )
    gone = [i for i in present if i not in wanted]
    for at in range(0, len(gone), _BATCH):
        client.delete(milvus.TEXT_COLLECTION, filter=f"id in {_quoted(gone[at : at + _BATCH])}")
    return SourceIndexed(source=source, units=len(units), upserted=len(changed), deleted=len(gone))


class SearchIndex:
    """One Milvus client and embedder shared by the refreshes of a run (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()
        self.rebuilt = False
        self.created = False

    def _open(self) -> tuple[Any, Embedder]:
        if self._client is None or self._embedder is None:
            self._embedder = embedder(self._settings)
            client = milvus.client(self._settings)
            # A new collection (first run, or the embedder changed) holds nothing yet.
            self.rebuilt = self.created = milvus.ensure_text_collection(
                client, self._embedder.signature, self._embedder.dim
            )
            self._client = client
        return self._client, self._embedder

    def refresh(self, sources: list[str]) -> list[SourceIndexed]:
        """Reconcile `sources` with the warehouse; every source when the collection is new."""
        from sophia_cli.store import postgres

        with self._lock:
            try:
                client, emb = self._open()
                if self.rebuilt:
                    sources, self.rebuilt = list(SOURCES), False
                out, states = [], {}
                with postgres.connect_url(postgres.resolve_url(self._settings)) as conn:
                    known = milvus.source_states(client)
                    for source in sources:
                        state = warehouse_state(conn, source)
                        last, _, units = known.get(source, "").rpartition("|")
                        if last == state:
                            out.append(SourceIndexed(source=source, units=int(units),
                                                     unchanged=True))  # fmt: skip
                            continue
                        done = index_units(client, emb, source, read_units(conn, source))
                        out.append(done)
                        states[source] = f"{state}|{done.units}"
                if any(done.upserted or done.deleted for done in out):
                    # Unflushed rows sit in growing segments that Milvus (Lite) scans without
                    # the BM25 index: 15 s a query over 17,000 units instead of 0.1 s.
                    client.flush(milvus.TEXT_COLLECTION)
                # Recorded only once the index holds the units: a refresh that failed midway
                # leaves the old state, and the next one reconciles again.
                milvus.record_source_states(client, states)
                return out
            except SophiaError:
                raise
            except Exception as exc:  # pymilvus and psycopg raise many unrelated types
                raise ServiceUnavailableError(
                    f"the search index could not be updated: {exc}",
                    hint="Check MILVUS_URI (unset uses Milvus Lite), then run `sophia db reindex`.",
                ) from exc

    @property
    def signature(self) -> str:
        return self._embedder.signature if self._embedder else ""

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def refresh(settings: Settings, sources: list[str] | None = None) -> IndexReport:
    """Bring the search collection in line with the warehouse for `sources` (all when None)."""
    started = time.monotonic()
    index = SearchIndex(settings)
    try:
        done = index.refresh(list(sources or SOURCES))
    finally:
        index.close()
    return IndexReport(embedder=index.signature, rebuilt=index.created, sources=done,
                       duration_s=round(time.monotonic() - started, 3))  # fmt: skip


def reindex(settings: Settings) -> IndexReport:
    """Drop the search collection and rebuild it from the warehouse with today's embedder."""
    client = milvus.client(settings)
    try:
        if client.has_collection(milvus.TEXT_COLLECTION):
            client.drop_collection(milvus.TEXT_COLLECTION)
    except Exception as exc:  # pymilvus raises many unrelated types
        raise ServiceUnavailableError(
            f"Milvus could not drop the search collection: {exc}"
        ) from exc
    finally:
        client.close()
    return refresh(settings)
