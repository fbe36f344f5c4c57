"""Synced text lands in Milvus (BM25 + dense), once per unit, however often it is re-read."""

from __future__ import annotations

import psycopg

from sophia_cli.core.settings import load_settings
from sophia_cli.sandbox import expected
from sophia_cli.store import milvus


def _indexed(settings) -> dict[str, int]:  # type: ignore[no-untyped-def]
    client = milvus.client(settings)
    try:
        rows = client.query(
            milvus.TEXT_COLLECTION, filter="ts >= 0", output_fields=["source"], limit=16384
        )
    finally:
        client.close()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["source"]] = counts.get(row["source"], 0) + 1
    return counts


def _expected(url: str, handle) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with psycopg.connect(url) as conn:
        slack = conn.execute(
            "SELECT count(*) FROM slack.messages WHERE NOT deleted AND coalesce(text, '') <> ''"
        ).fetchone()
        asana = conn.execute("SELECT count(*) FROM asana.tasks WHERE NOT deleted").fetchone()
    assert slack and asana
    data = handle.sandbox.data  # one document per transcript sentence row (a turn as stored)
    turns = sum(
        1
        for call_id, monologues in data.gong.transcripts.items()
        if expected.transcript_ready(data, call_id)
        for monologue in monologues
        for sentence in monologue["sentences"]
        if sentence.get("text")
    )
    return {"slack": slack[0], "asana": asana[0], "gong": turns}


def test_text_is_indexed_once_and_reindexing_is_idempotent(sandbox, synced, stores_env):
    report = synced(sandbox, ["slack", "asana", "gong"], dry_run=False)
    assert report.ok
    settings = load_settings()
    assert settings.sync_text_index is False  # the fixture's default; turn it on below
    settings = settings.model_copy(update={"sync_text_index": True})
    from sophia_cli.core.sync.run import run_sync

    assert run_sync(settings, ["slack", "asana", "gong"], full=True).ok
    first = _indexed(settings)
    assert first == _expected(stores_env["DATABASE_URL"], sandbox)
    assert run_sync(settings, ["slack", "asana", "gong"], full=True).ok
    assert _indexed(settings) == first


def test_indexed_text_is_found_by_bm25(sandbox, point_at):
    settings = point_at(sandbox, SYNC_TEXT_INDEX="true")
    from sophia_cli.core.search.search import search
    from sophia_cli.core.sync.run import run_sync

    assert run_sync(settings, ["slack"]).ok
    hits = search(settings, "pricing", mode="bm25", limit=5).hits
    assert hits and all("pric" in hit.snippet.lower() for hit in hits)


def test_transcript_turns_are_stamped_at_call_time(sandbox, point_at, stores_env):
    settings = point_at(sandbox, SYNC_TEXT_INDEX="true")
    from sophia_cli.core.sync.run import run_sync

    assert run_sync(settings, ["gong"]).ok
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT id, extract(epoch FROM started_at)::bigint, duration_seconds FROM gong.calls"
        ).fetchall()
    calls = {call_id: (start, start + duration) for call_id, start, duration in rows}
    client = milvus.client(settings)
    try:
        docs = client.query(
            milvus.TEXT_COLLECTION, filter='source == "gong"', output_fields=["id", "ts"], limit=500
        )
    finally:
        client.close()
    assert docs
    for doc in docs:
        start, end = calls[doc["id"].split(":")[1]]
        assert start <= doc["ts"] <= end, doc
