"""Sync's hook into search: after a source's run, its search units follow the warehouse.

Pages only count the texts they carry; the index itself is reconciled with the warehouse
once the source's pages are committed (`SearchIndex.refresh`): new and edited units are
embedded and upserted, and units of records this run deleted, archived or tombstoned are
removed, in the same `sophia sync` run.
"""

from __future__ import annotations

import asyncio

from sophia_cli.core.search.index import SearchIndex, SourceIndexed
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.sources import SEARCHABLE as SOURCES
from sophia_cli.core.sync.streams import TextDoc


class TextIndex:
    """The search index shared by the sources of one run."""

    def __init__(self, settings: Settings) -> None:
        self._index = SearchIndex(settings)

    async def upsert(self, docs: list[TextDoc]) -> int:
        """How many non-empty texts this page brings (indexed by `refresh` after the run)."""
        return sum(1 for doc in docs if doc.text.strip())

    async def refresh(self, source: str) -> SourceIndexed | None:
        """Reconcile `source`'s search units with the warehouse (None: it has no text)."""
        if source not in SOURCES:
            return None
        done = await asyncio.to_thread(self._index.refresh, [source])
        return next((d for d in done if d.source == source), None)

    def close(self) -> None:
        self._index.close()
