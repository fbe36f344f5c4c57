"""Hits are conversation units: who said it (inside or outside), where, when, with context."""

from __future__ import annotations

from search_world import LIVE_IDS, PARENT, PRICE_OBJECTION

from sophia_cli.core.search.search import SearchFilters, search
from sophia_cli.core.settings import Settings
from sophia_cli.store import milvus


def test_a_gong_turn_carries_speaker_affiliation_call_and_neighbours(world: Settings) -> None:
    hit = search(world, "enterprise tier too expensive", mode="bm25").hits[0]
    assert hit.id == PRICE_OBJECTION
    assert (hit.source, hit.kind, hit.author, hit.affiliation, hit.place, hit.place_id) == (
        "gong", "transcript", "Tom Baker", "external", "Acme renewal", "g1")  # fmt: skip
    assert hit.url == "https://app.gong.io/call?id=g1"
    assert hit.time is not None and hit.time.isoformat() == "2026-06-10T15:00:05+00:00"
    assert "renewal proposal" in hit.context and "multi-year discount" in hit.context


def test_a_slack_reply_carries_its_thread_channel_and_link(world: Settings) -> None:
    hit = search(world, "legal flagged", mode="bm25").hits[0]
    assert (hit.kind, hit.author, hit.affiliation, hit.place) == (
        "reply", "Sam Ortiz", "internal", "#deals")  # fmt: skip
    assert hit.url == "https://slack.com/archives/C1/p1782036000000000"
    assert "pushed back hard on pricing" in hit.context


def test_a_thread_opening_carries_its_first_replies(world: Settings) -> None:
    hits = search(world, "discount annual plans", mode="bm25",
                  filters=SearchFilters(source="slack")).hits  # fmt: skip
    assert hits[0].id == f"slack:C1:{PARENT}" and "legal also flagged" in hits[0].context


def test_only_live_records_are_units(world: Settings) -> None:
    client = milvus.client(world)
    try:
        rows = client.query(milvus.TEXT_COLLECTION, filter="ts >= 0", output_fields=["id"])
    finally:
        client.close()
    assert {row["id"] for row in rows} == LIVE_IDS  # the deleted message and task are not
