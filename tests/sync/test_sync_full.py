"""A full sync holds exactly the sandbox's data; a second run inserts and updates nothing."""

from __future__ import annotations

import json

from sync_helpers import TABLES, mismatches, stream_counts, warehouse_rows


def test_full_sync_row_counts_equal_the_sandbox(sandbox, point_at, sophia, stores_env):
    point_at(sandbox)
    result = sophia("sync", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["ok"] is True
    counts = sandbox.counts()
    for table in TABLES:
        rows = warehouse_rows(stores_env["DATABASE_URL"], table, ["1"])
        assert len(rows) == counts["tables"][table], table


def test_full_sync_rows_equal_the_sandbox_exactly(sandbox, synced, stores_env):
    report = synced(sandbox)
    assert report.ok
    assert mismatches(stores_env["DATABASE_URL"], sandbox) == {}


def test_second_run_inserts_zero_and_updates_zero(sandbox, synced):
    first = synced(sandbox)
    assert first.totals["inserted"] > 0
    second = synced(sandbox)
    assert second.ok
    assert {k: v for k, v in stream_counts(second).items() if v != (0, 0, 0)} == {}


def test_archived_records_are_present_and_marked(sandbox, synced, stores_env):
    synced(sandbox)
    counts = sandbox.counts()
    flags = {
        "hubspot.deals": "archived",
        "hubspot.contacts": "archived",
        "hubspot.owners": "archived",
        "slack.users": "deleted",
        "slack.channels": "is_archived",
        "asana.projects": "archived",
    }
    for table, flag in flags.items():
        marked = warehouse_rows(stores_env["DATABASE_URL"], table, [flag])
        assert sum(1 for (value,) in marked if value) == counts["archived"][table], table


def test_channel_the_bot_is_not_in_is_reported_not_fatal(sandbox, synced):
    report = synced(sandbox, ["slack"])
    messages = next(s for s in report.sources[0].streams if s.stream == "messages")
    assert messages.status == "success"
    assert any("not a member" in note for note in messages.notes)


def test_sync_status_shows_last_success_and_rows(sandbox, synced, sophia):
    synced(sandbox, ["gong"])
    result = sophia("sync", "status", "--json")
    assert result.exit_code == 0, result.stderr
    streams = {(s["source"], s["stream"]): s for s in json.loads(result.stdout)["streams"]}
    calls = streams[("gong", "calls")]
    assert (
        calls["last_status"] == "success"
        and calls["rows"] == sandbox.counts()["tables"]["gong.calls"]
    )
    assert streams[("slack", "messages")]["last_success"] is None


def test_dry_run_counts_but_writes_nothing(sandbox, synced, stores_env):
    report = synced(sandbox, ["hubspot"], dry_run=True)
    assert report.ok and report.totals["inserted"] > 0
    assert warehouse_rows(stores_env["DATABASE_URL"], "hubspot.deals", ["id"]) == []
    assert warehouse_rows(stores_env["DATABASE_URL"], "sophia.sync_state", ["stream"]) == []


def test_positional_sources_sync_only_those(sandbox, point_at, sophia, stores_env):
    point_at(sandbox)
    result = sophia("sync", "gong", "asana", "--json")
    assert result.exit_code == 0, result.stderr
    assert [s["source"] for s in json.loads(result.stdout)["sources"]] == ["gong", "asana"]
    assert warehouse_rows(stores_env["DATABASE_URL"], "slack.users", ["id"]) == []


def test_a_first_sync_reports_as_inserted_exactly_the_rows_each_table_holds(sandbox, synced):
    report = synced(sandbox)
    inserted: dict[str, int] = {}
    for source in report.sources:
        for stream in source.streams:
            table = f"{source.source}.{stream.stream}"
            inserted[table] = inserted.get(table, 0) + stream.inserted
            for child, counts in stream.tables.items():
                inserted[child] = inserted.get(child, 0) + counts.inserted
    counts = sandbox.counts()["tables"]
    for table in ("gong.calls", "gong.call_participants", "gong.transcripts", "asana.tasks"):
        assert inserted[table] == counts[table], table
