"""Asana between sweeps: deletions and subtask edits arrive through the event streams.

Every test syncs once (the first run sweeps and takes the tokens), changes the sandbox in a
way no `modified_since` listing shows, then runs once more with the sweep not due.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from sync_helpers import mismatches

from sophia_cli.core.sync.models import SyncReport
from sophia_cli.sandbox.api.app import SandboxHandle, start_sandbox

NO_SWEEP = {"ASANA_SWEEP_HOURS": "24"}


def _tasks(report: SyncReport) -> Any:
    return next(s for s in report.sources[0].streams if s.stream == "tasks")


def _full_listings(handle: SandboxHandle) -> list[str]:
    """Project listings without `modified_since` in the request log (a sweep's reads)."""
    return [
        r["query"]
        for r in handle.requests("asana")
        if r["path"].endswith("/tasks") and "modified_since=" not in r["query"]
    ]


@pytest.fixture
def first_run(
    sandbox: SandboxHandle, synced: Callable[..., SyncReport]
) -> Callable[[], SyncReport]:
    """Sync Asana once (a sweep: no token yet) and return a function for the next run."""
    assert synced(sandbox, ["asana"], env=NO_SWEEP).ok

    def next_run() -> SyncReport:
        return synced(sandbox, ["asana"], env=NO_SWEEP)

    return next_run


def _deleted(url: str, gids: list[str]) -> list[bool]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT deleted FROM asana.tasks WHERE gid = ANY(%s)", [gids]
        ).fetchall()
    return [deleted for (deleted,) in rows]


def test_a_task_deleted_between_runs_is_marked_deleted_on_the_next_run_without_a_sweep(
    sandbox, first_run, stores_env
):
    change = sandbox.change_asana("delete_task")
    sandbox.sandbox.log.clear()
    report = first_run()
    assert report.ok and _full_listings(sandbox) == []
    assert _tasks(report).deleted == len(change["deleted"]) >= 2  # with its subtasks
    assert _deleted(stores_env["DATABASE_URL"], change["deleted"]) == [True] * len(
        change["deleted"]
    )
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}


def test_a_subtask_edited_under_an_unchanged_parent_arrives_on_the_next_run(
    sandbox, first_run, stores_env
):
    change = sandbox.change_asana("edit_subtask")
    report = first_run()
    assert report.ok and _tasks(report).updated >= 1
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        (name,) = conn.execute(
            "SELECT name FROM asana.tasks WHERE gid = %s", [change["gid"]]
        ).fetchone()
    assert "[edited" in name
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}


def test_a_subtask_deleted_under_an_unchanged_parent_is_marked_deleted_on_the_next_run(
    sandbox, first_run, stores_env
):
    change = sandbox.change_asana("delete_subtask")
    report = first_run()
    assert report.ok and _tasks(report).deleted == len(change["deleted"])
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}


def test_a_run_with_nothing_changed_reads_events_and_changes_nothing(
    sandbox, first_run, stores_env
):
    report = first_run()
    assert (_tasks(report).inserted, _tasks(report).updated, _tasks(report).deleted) == (0, 0, 0)
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        kinds = dict(
            conn.execute(
                "SELECT kind, count(*) FROM sophia.sync_tokens WHERE source = 'asana' GROUP BY kind"
            ).fetchall()
        )
    parents = {r["parent_gid"] for r in sandbox.expected("asana.tasks") if r["parent_gid"]}
    assert kinds == {"project": len(sandbox.expected("asana.projects")), "task": len(parents)}


def test_an_expired_token_lists_the_project_in_full_and_loses_nothing(
    sandbox, first_run, stores_env
):
    sandbox.mutate()
    deleted = sandbox.change_asana("delete_task")["deleted"]
    sandbox.change_asana("edit_subtask")
    assert sandbox.expire_asana_tokens() > 0
    sandbox.sandbox.log.clear()
    report = first_run()
    assert report.ok
    assert len(_full_listings(sandbox)) == len(sandbox.expected("asana.projects"))
    assert any("event token expired" in note for note in _tasks(report).notes)
    assert all(_deleted(stores_env["DATABASE_URL"], deleted))
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}
    again = first_run()  # the fresh tokens work: back to events only
    assert again.ok and _tasks(again).notes == []


def test_events_read_page_by_page_until_has_more_is_false(point_at, stores_env):
    from sophia_cli.core.sync.run import run_sync

    with start_sandbox(seed=7, scale=0.05, asana_events_page=1) as handle:
        settings = point_at(handle, **NO_SWEEP)
        assert run_sync(settings, ["asana"]).ok
        for _ in range(3):
            handle.mutate()
        handle.change_asana("delete_subtask")
        handle.change_asana("edit_subtask")
        handle.sandbox.log.clear()
        assert run_sync(settings, ["asana"]).ok
        reads = [r for r in handle.requests("asana") if r["path"].endswith("/events")]
        assert len(reads) > len({r["query"].split("sync=")[0] for r in reads})  # has_more
        assert mismatches(stores_env["DATABASE_URL"], handle, ("asana.tasks",)) == {}


def _event(action: str, gid: str, parent: str | None = None) -> dict[str, Any]:
    return {
        "action": action,
        "resource": {"gid": gid, "resource_type": "task"},
        "parent": {"gid": parent, "resource_type": "project"} if parent else None,
    }


def test_project_events_sort_into_deleted_removed_and_back_in_the_order_they_came():
    from sophia_cli.core.sync.connectors.asana_events import sort_project_events

    result = sort_project_events(
        "P",
        [
            _event("deleted", "1"),
            _event("removed", "2", "P"),
            _event("removed", "3", "Q"),  # left another project: not this one's business
            _event("deleted", "4"),
            _event("undeleted", "4"),
            _event("removed", "5", "P"),
            _event("added", "5", "P"),
        ],
    )
    assert (result.deleted, result.removed, result.undeleted) == ({"1"}, {"2"}, {"4"})


def test_without_parent_events_only_projects_are_watched_and_subtask_edits_wait_for_the_sweep(
    sandbox, synced, stores_env
):
    off = {**NO_SWEEP, "ASANA_SUBTASK_EVENTS": "false"}
    assert synced(sandbox, ["asana"], env=off).ok
    edit = sandbox.change_asana("edit_subtask")
    gone = sandbox.change_asana("delete_task")["deleted"]
    sandbox.sandbox.log.clear()
    assert synced(sandbox, ["asana"], env=off).ok
    watched = {
        r["query"].split("&")[0] for r in sandbox.requests("asana") if "/events" in r["path"]
    }
    projects = {f"resource={p['gid']}" for p in sandbox.expected("asana.projects")}
    assert watched == projects  # one read per project, none per parent task
    assert all(_deleted(stores_env["DATABASE_URL"], gone))  # deletions still arrive at once
    assert "[edited" not in _name(stores_env["DATABASE_URL"], edit["gid"])
    assert synced(sandbox, ["asana"], env={**off, "ASANA_SWEEP_HOURS": "0"}).ok
    assert "[edited" in _name(stores_env["DATABASE_URL"], edit["gid"])
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}


def _name(url: str, gid: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT name FROM asana.tasks WHERE gid = %s", [gid]).fetchone()
    return str(row[0]) if row else ""
