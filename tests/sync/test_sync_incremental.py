"""Incremental runs: changes, deletes, archives, late data and HubSpot's 10,000 cap."""

from __future__ import annotations

from sync_helpers import mismatches, stream_counts, warehouse_rows

from sophia_cli.sandbox.api.app import start_sandbox


def _changed(changes: dict, table: str, kind: str) -> int:
    return len(changes[table][kind])


def test_after_mutate_exactly_the_changed_rows_update(sandbox, synced, stores_env):
    synced(sandbox)
    changes = sandbox.mutate()["changes"]
    report = synced(sandbox)
    counts = stream_counts(report)
    for table in ("hubspot.companies", "hubspot.contacts", "hubspot.deals"):
        inserted, updated, deleted = counts[table]
        assert inserted == _changed(changes, table, "added"), table
        assert updated == _changed(changes, table, "updated"), table
        assert deleted == _changed(changes, table, "archived"), table
    assert counts["hubspot.owners"][1] == _changed(changes, "hubspot.owners", "updated")
    assert counts["asana.tasks"] == (
        _changed(changes, "asana.tasks", "added"),
        _changed(changes, "asana.tasks", "updated"),
        _changed(changes, "asana.tasks", "deleted"),
    )
    assert counts["slack.messages"] == (
        _changed(changes, "slack.messages", "added"),
        _changed(changes, "slack.messages", "updated"),
        _changed(changes, "slack.messages", "deleted"),
    )
    assert counts["slack.users"][:2] == (0, _changed(changes, "slack.users", "updated"))
    new_calls = set(changes["gong.calls"]["added"])
    parties = [r for r in sandbox.expected("gong.call_participants") if r["call_id"] in new_calls]
    assert counts["gong.calls"] == (len(new_calls), 0, 0)
    added = report.sources[-1].streams[1].tables["gong.call_participants"]
    assert (added.inserted, added.updated, added.deleted) == (len(parties), 0, 0)
    transcribed = set(changes["gong.transcripts"]["added"])
    sentences = [r for r in sandbox.expected("gong.transcripts") if r["call_id"] in transcribed]
    assert counts["gong.transcripts"] == (len(sentences), 0, 0)
    assert mismatches(stores_env["DATABASE_URL"], sandbox) == {}


def test_deleted_asana_tasks_and_archived_deals_are_marked(sandbox, synced, stores_env):
    synced(sandbox)
    changes = sandbox.mutate()["changes"]
    synced(sandbox)
    url = stores_env["DATABASE_URL"]
    deleted = {gid for gid, flag in warehouse_rows(url, "asana.tasks", ["gid", "deleted"]) if flag}
    assert deleted == set()  # tombstones are excluded by warehouse_rows; check them directly
    import psycopg

    with psycopg.connect(url) as conn:
        tombstones = {
            r[0]
            for r in conn.execute(
                "SELECT gid FROM asana.tasks WHERE deleted AND deleted_at IS NOT NULL"
            )
        }
        archived = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM hubspot.deals WHERE archived AND archived_at IS NOT NULL"
            )
        }
    assert tombstones == set(changes["asana.tasks"]["deleted"])
    assert set(changes["hubspot.deals"]["archived"]) <= archived


def test_several_mutations_keep_the_warehouse_equal_to_the_sandbox(sandbox, synced, stores_env):
    synced(sandbox)
    for _ in range(3):
        sandbox.mutate()
        assert synced(sandbox).ok
    assert mismatches(stores_env["DATABASE_URL"], sandbox) == {}


def test_slack_late_thread_reply_within_the_lookback_is_picked_up(sandbox, synced, stores_env):
    synced(sandbox, ["slack"])
    reply = sandbox.late_reply()
    report = synced(sandbox, ["slack"])
    url = stores_env["DATABASE_URL"]
    rows = warehouse_rows(url, "slack.messages", ["channel_id", "ts", "thread_ts"])
    assert (reply["channel"], reply["ts"], reply["thread_ts"]) in rows
    assert stream_counts(report)["slack.messages"][0] == 1
    assert mismatches(url, sandbox, ("slack.messages",)) == {}


def test_hubspot_over_10000_records_sharing_one_timestamp(point_at, stores_env):
    from sophia_cli.core.sync.run import run_sync

    with start_sandbox(seed=3, scale=0.02, scenario="hubspot_bulk_import") as handle:
        report = run_sync(point_at(handle), ["hubspot"])
        assert report.ok, report.sources[0].error
        assert mismatches(stores_env["DATABASE_URL"], handle, ("hubspot.contacts",)) == {}
        searches = [r for r in handle.requests("hubspot") if r["path"].endswith("/search")]
        assert searches and all(r["status"] == 200 for r in searches)
        again = run_sync(point_at(handle), ["hubspot"])
        assert stream_counts(again)["hubspot.contacts"] == (0, 0, 0)
