"""HubSpot loses nothing: records changing mid-sync, the search index's lag, keyset paging."""

from __future__ import annotations

import time

import psycopg
from sync_helpers import mismatches

from sophia_cli.sandbox.adversity import Adversities
from sophia_cli.sandbox.api.app import start_sandbox

CRM = ("hubspot.companies", "hubspot.contacts", "hubspot.deals")


def test_records_changed_while_the_first_sync_pages_are_all_there_after_one_more_run(
    synced, stores_env
):
    # ~600 contacts: three search pages, each followed by 30 edits that leave the window.
    churn = Adversities(churn_per_page=30)
    with start_sandbox(seed=7, scale=0.12, adversities=churn) as handle:
        assert synced(handle, ["hubspot"]).ok
        assert handle.sandbox.search_pages >= 3  # the churn really ran during the pass
        handle.calm()
        assert synced(handle, ["hubspot"]).ok
        assert mismatches(stores_env["DATABASE_URL"], handle, CRM) == {}


def test_writes_the_search_index_shows_late_are_read_by_a_later_run(synced, stores_env):
    lag = Adversities(hubspot_index_lag_s=1.0)
    with start_sandbox(seed=7, scale=0.05, adversities=lag) as handle:
        assert synced(handle, ["hubspot"]).ok
        handle.touch("contacts", 40)
        time.sleep(0.5)  # about half of the 40 writes are searchable now, in no time order
        assert synced(handle, ["hubspot"]).ok
        time.sleep(1.1)
        assert synced(handle, ["hubspot"]).ok
        assert mismatches(stores_env["DATABASE_URL"], handle, CRM) == {}


def test_search_requests_never_page_by_offset(synced):
    with start_sandbox(seed=7, scale=0.12) as handle:  # more contacts than one page holds
        assert synced(handle, ["hubspot"]).ok
        assert handle.sandbox.search_pages > 3
        assert set(handle.sandbox.search_offsets) == {0}


def test_every_deal_stage_and_pipeline_reads_as_its_label(sandbox, synced, stores_env):
    assert synced(sandbox, ["hubspot"]).ok
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        unlabelled = conn.execute(
            "SELECT count(*) FROM hubspot.deals d"
            " LEFT JOIN hubspot.pipelines p ON p.id = d.pipeline"
            " LEFT JOIN hubspot.pipeline_stages s ON s.pipeline_id = d.pipeline AND s.id = d.stage"
            " WHERE p.label IS NULL OR s.label IS NULL"
        ).fetchone()
        won = conn.execute(
            "SELECT label FROM hubspot.pipeline_stages WHERE is_won AND pipeline_id = 'enterprise'"
        ).fetchall()
    assert unlabelled == (0,)
    assert won == [("Closed Won",)]
    assert (
        mismatches(
            stores_env["DATABASE_URL"], sandbox, ("hubspot.pipelines", "hubspot.pipeline_stages")
        )
        == {}
    )


def _reconciling(point_at, handle, hours: str):
    from sophia_cli.core.sync.run import run_sync

    return run_sync(point_at(handle, HUBSPOT_RECONCILE_HOURS=hours), ["hubspot"])


def test_merged_records_are_archived_and_the_survivor_lists_the_merged_ids(
    sandbox, point_at, stores_env
):
    assert _reconciling(point_at, sandbox, "24").ok
    survivor, gone = sandbox.merge("contacts")
    sandbox.merge("deals")
    assert _reconciling(point_at, sandbox, "0").ok
    url = stores_env["DATABASE_URL"]
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT archived, archived_at IS NOT NULL FROM hubspot.contacts WHERE id = %s", [gone]
        ).fetchone()
        merged = conn.execute(
            "SELECT merged_object_ids FROM hubspot.contacts WHERE id = %s", [survivor]
        ).fetchone()
    assert row == (True, True) and merged == (gone,)
    assert mismatches(url, sandbox, CRM) == {}


def test_a_deal_moved_to_another_company_alone_is_refreshed_by_the_reconciliation(
    sandbox, point_at, stores_env
):
    assert _reconciling(point_at, sandbox, "24").ok
    sandbox.reassociate(5)
    url = stores_env["DATABASE_URL"]
    assert _reconciling(point_at, sandbox, "24").ok
    assert "hubspot.deals" in mismatches(url, sandbox, CRM)  # search cannot see the move
    report = _reconciling(point_at, sandbox, "0")
    deals = next(s for s in report.sources[0].streams if s.stream == "deals")
    assert deals.updated > 0  # the moves the look-back did not already re-read
    assert mismatches(url, sandbox, CRM) == {}


def test_full_sync_reconciles_too(sandbox, synced, stores_env):
    assert synced(sandbox, ["hubspot"]).ok
    sandbox.merge("deals")
    sandbox.reassociate(3)
    assert synced(sandbox, ["hubspot"], full=True).ok
    assert mismatches(stores_env["DATABASE_URL"], sandbox, CRM) == {}
