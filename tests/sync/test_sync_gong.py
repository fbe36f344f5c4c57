"""Gong: calls deleted in Gong are marked deleted when a re-listed window misses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from sync_helpers import mismatches, stream_counts

GONG = ("gong.calls", "gong.call_participants", "gong.transcripts")


def _older_calls(sandbox, count: int) -> list[str]:
    """Calls that started more than a day ago (well inside any re-listed window)."""
    cutoff = datetime.now(UTC) - timedelta(days=1)
    rows = sandbox.expected("gong.calls")
    return [
        r["id"]
        for r in rows
        if datetime.fromisoformat(r["started_at"].replace("Z", "+00:00")) < cutoff
    ][:count]


def _call_state(url: str, ids: list[str]) -> tuple[list[bool], int, int]:
    with psycopg.connect(url) as conn:
        deleted = [
            bool(r[0])
            for r in conn.execute("SELECT deleted FROM gong.calls WHERE id = ANY(%s)", [ids])
        ]
        parties = conn.execute(
            "SELECT count(*) FROM gong.call_participants WHERE call_id = ANY(%s)", [ids]
        ).fetchone()
        sentences = conn.execute(
            "SELECT count(*) FROM gong.transcripts WHERE call_id = ANY(%s)", [ids]
        ).fetchone()
    assert parties is not None and sentences is not None
    return deleted, int(parties[0]), int(sentences[0])


def test_deleted_calls_in_the_relisted_window_are_marked_deleted(sandbox, point_at, stores_env):
    from sophia_cli.core.sync.run import run_sync

    settings = point_at(sandbox, GONG_LOOKBACK_DAYS="3650")
    assert run_sync(settings, ["gong"]).ok
    gone = sandbox.delete_calls(_older_calls(sandbox, 2))
    report = run_sync(settings, ["gong"])
    assert len(gone) == 2 and stream_counts(report)["gong.calls"][2] == 2
    url = stores_env["DATABASE_URL"]
    assert _call_state(url, gone) == ([True, True], 0, 0)
    assert mismatches(url, sandbox, GONG) == {}


def test_a_full_sync_marks_calls_deleted_at_any_age(sandbox, synced, stores_env):
    assert synced(sandbox, ["gong"]).ok
    gone = sandbox.delete_calls(_older_calls(sandbox, 1))
    assert synced(sandbox, ["gong"], full=True).ok
    assert _call_state(stores_env["DATABASE_URL"], gone) == ([True], 0, 0)


def test_calls_outside_the_relisted_window_are_not_judged(sandbox, synced, stores_env):
    assert synced(sandbox, ["gong"]).ok  # GONG_LOOKBACK_DAYS: 3 days, the data is older
    before = len(sandbox.expected("gong.calls"))
    assert synced(sandbox, ["gong"]).ok
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT count(*) FROM gong.calls WHERE NOT deleted").fetchone()
    assert row == (before,)
