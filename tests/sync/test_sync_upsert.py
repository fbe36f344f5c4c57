"""The upsert path on real PostgreSQL: counts from xmax, no-op re-writes, child pruning."""

from __future__ import annotations

import asyncio
import time

from psycopg import AsyncConnection

from sophia_cli.core.sync.limiter import SlidingWindowLimiter
from sophia_cli.core.sync.load import load
from sophia_cli.core.sync.streams import Table

OWNERS = Table("hubspot.owners", ("id",), ("id", "email", "archived"))
PARTIES = Table(
    "gong.call_participants",
    ("call_id", "party_id"),
    ("call_id", "party_id", "name"),
    scope="call_id",
)


async def _load(url: str, table: Table, rows: list[dict]) -> tuple[int, int, int]:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        async with conn.transaction():
            counts = await load(conn, table, rows)
    return counts.inserted, counts.updated, counts.deleted


def test_upsert_counts_inserts_then_only_real_changes(warehouse_url):
    rows = [{"id": str(i), "email": f"o{i}@x.test", "archived": False} for i in range(5)]
    assert asyncio.run(_load(warehouse_url, OWNERS, rows)) == (5, 0, 0)
    assert asyncio.run(_load(warehouse_url, OWNERS, rows)) == (0, 0, 0)
    rows[1] = {**rows[1], "email": None}
    rows.append({"id": "9", "email": "new@x.test", "archived": True})
    assert asyncio.run(_load(warehouse_url, OWNERS, rows)) == (1, 1, 0)


def test_duplicate_keys_in_one_page_keep_the_last_row(warehouse_url):
    rows = [
        {"id": "1", "email": "old@x.test", "archived": False},
        {"id": "1", "email": "new@x.test", "archived": False},
    ]
    assert asyncio.run(_load(warehouse_url, OWNERS, rows)) == (1, 0, 0)
    again = [{"id": "1", "email": "new@x.test", "archived": False}]
    assert asyncio.run(_load(warehouse_url, OWNERS, again)) == (0, 0, 0)


def test_reread_parent_prunes_children_the_api_no_longer_returns(warehouse_url):
    first = [{"call_id": "c1", "party_id": p, "name": p} for p in ("a", "b", "c")]
    first.append({"call_id": "c2", "party_id": "z", "name": "z"})
    assert asyncio.run(_load(warehouse_url, PARTIES, first)) == (4, 0, 0)
    again = [
        {"call_id": "c1", "party_id": "a", "name": "A"},
        {"call_id": "c1", "party_id": "b", "name": "b"},
    ]
    assert asyncio.run(_load(warehouse_url, PARTIES, again)) == (0, 1, 1)  # c2 untouched


def test_sliding_window_limiter_never_exceeds_its_window():
    async def burst() -> list[float]:
        limiter = SlidingWindowLimiter(3, 0.5)
        stamps = []
        for _ in range(9):
            await limiter.acquire()
            stamps.append(time.monotonic())
        return stamps

    stamps = asyncio.run(burst())
    assert all(sum(1 for u in stamps if t <= u < t + 0.5) <= 3 for t in stamps)
    assert stamps[-1] - stamps[0] >= 1.0


def test_limiter_pause_holds_every_request_for_retry_after():
    async def paused() -> float:
        limiter = SlidingWindowLimiter(100, 10.0)
        limiter.pause(0.6)
        started = time.monotonic()
        await limiter.acquire()
        return time.monotonic() - started

    assert asyncio.run(paused()) >= 0.55
