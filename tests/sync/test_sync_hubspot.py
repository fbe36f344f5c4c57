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
