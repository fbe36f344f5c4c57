"""Full-text indexing of synced text into Milvus (collection `sophia_text`, BM25).

Upserts by id, so re-indexing a page after a crash or a re-read changes nothing. pymilvus
is synchronous and heavy to import: it is loaded on first use and called from a thread.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict
from typing import Any

from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.streams import TextDoc
from sophia_cli.store import milvus

_LIMITS = {"id": 256, "source": 32, "kind": 32, "author": 256, "url": 1024}


def _clip(doc: TextDoc) -> dict[str, Any]:
    row = asdict(doc)
    for field, limit in _LIMITS.items():
        row[field] = str(row[field] or "")[:limit]
    # Milvus counts bytes for VARCHAR; 3 bytes per character keeps any UTF-8 text inside.
    row["text"] = row["text"][: milvus.TEXT_MAX_LENGTH // 3]
    return row


class TextIndex:
    """A lazily opened Milvus client shared by the sources of one run."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    def _open(self) -> Any:
        if self._client is None:
            client = milvus.client(self._settings)
            milvus.ensure_text_collection(client)
            self._client = client
        return self._client

    def _upsert(self, docs: list[TextDoc]) -> int:
        with self._lock:
            try:
                self._open().upsert(milvus.TEXT_COLLECTION, [_clip(doc) for doc in docs])
            except ServiceUnavailableError:
                raise
            except Exception as exc:  # pymilvus raises many unrelated types
                raise ServiceUnavailableError(
                    f"Milvus rejected the text index upsert: {exc}",
                    hint="Check MILVUS_URI (unset uses Milvus Lite), or set SYNC_TEXT_INDEX=false.",
                ) from exc
        return len(docs)

    async def upsert(self, docs: list[TextDoc]) -> int:
        """Index these texts (non-empty ones only); returns how many were written."""
        docs = [doc for doc in docs if doc.text.strip()]
        if not docs:
            return 0
        return await asyncio.to_thread(self._upsert, docs)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
