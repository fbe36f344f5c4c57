"""Slack users' organisation: Slack Connect guests are external, colleagues internal."""

from __future__ import annotations

import psycopg
from sync_helpers import SMALL, mismatches

from sophia_cli.core.search.units import read_units
from sophia_cli.core.sync.connectors.slack import Home
from sophia_cli.sandbox.api.app import start_sandbox


def test_guests_from_a_partner_workspace_are_external_and_everyone_else_internal(
    point_at, stores_env
):
    from sophia_cli.core.sync.run import run_sync

    with start_sandbox(seed=7, scale=SMALL, slack_external_users=2) as handle:
        assert run_sync(point_at(handle), ["slack"]).ok
        with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
            external = conn.execute(
                "SELECT id FROM slack.users WHERE is_external ORDER BY id"
            ).fetchall()
            internal = conn.execute("SELECT count(*) FROM slack.users WHERE NOT is_external")
            (colleagues,) = internal.fetchone() or (0,)
        assert external == [("U0PARTNER00",), ("U0PARTNER01",)]
        assert colleagues == len(handle.expected("slack.users")) - 2
        assert mismatches(stores_env["DATABASE_URL"], handle, ("slack.users",)) == {}
        with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
            units = read_units(conn, "slack")
        by_guests = {u.affiliation for u in units if u.author.startswith("U0PARTNER")}
        assert by_guests == {"external"}  # search can tell the partner's words from ours
        assert {u.affiliation for u in units if not u.author.startswith("U0PARTNER")} == {
            "internal"
        }


def test_the_demo_company_has_no_external_slack_users(sandbox, synced, stores_env):
    assert synced(sandbox, ["slack"]).ok
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT DISTINCT team_id, is_external FROM slack.users").fetchall()
    assert rows == [(sandbox.sandbox.data.slack.team_id, False)]


def test_users_of_our_enterprise_grid_org_in_another_workspace_are_internal():
    ours = Home("T0HOME", enterprise_id="E0ORG")
    assert not ours.is_external(
        {"team_id": "T0OTHER", "enterprise_user": {"enterprise_id": "E0ORG"}}
    )
    assert ours.is_external({"team_id": "T0OTHER", "enterprise_user": {"enterprise_id": "E0ELSE"}})
    assert ours.is_external({"team_id": "T0HOME", "is_stranger": True})
    assert not ours.is_external({"team_id": "T0HOME"})
