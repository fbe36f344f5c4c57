"""Asana: subtasks, which no project task list includes, are tasks with their parent."""

from __future__ import annotations

import psycopg
from sync_helpers import mismatches

from sophia_cli.sandbox.adversity import Adversities
from sophia_cli.sandbox.api.app import start_sandbox


def test_subtasks_are_synced_as_tasks_naming_their_parent(sandbox, synced, stores_env):
    assert synced(sandbox, ["asana"]).ok
    expected = [r for r in sandbox.expected("asana.tasks") if r["parent_gid"] is not None]
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        row = conn.execute(
            "SELECT count(*) FROM asana.tasks WHERE parent_gid IS NOT NULL AND NOT deleted"
        ).fetchone()
    assert expected and row == (len(expected),)
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}


def test_a_sweep_does_not_mark_subtasks_deleted(sandbox, synced, stores_env):
    assert synced(sandbox, ["asana"]).ok
    again = synced(sandbox, ["asana"])  # the fixture sweeps on every run
    tasks = next(s for s in again.sources[0].streams if s.stream == "tasks")
    assert (tasks.inserted, tasks.updated, tasks.deleted) == (0, 0, 0)


def test_subtasks_of_a_deleted_task_are_marked_deleted_with_it(sandbox, synced, stores_env):
    assert synced(sandbox, ["asana"]).ok
    parent = next(r for r in sandbox.expected("asana.tasks") if r["parent_gid"])["parent_gid"]
    with sandbox.sandbox.lock:
        tasks = sandbox.sandbox.data.asana.tasks
        for gid in [g for g, t in tasks.items() if g == parent or t.get("_parent") == parent]:
            del tasks[gid]
    assert synced(sandbox, ["asana"]).ok
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        rows = conn.execute(
            "SELECT deleted FROM asana.tasks WHERE gid = %s OR parent_gid = %s", [parent, parent]
        ).fetchall()
    assert len(rows) >= 2 and all(deleted for (deleted,) in rows)
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("asana.tasks",)) == {}


def test_tasks_changed_while_the_first_sync_lists_them_are_there_after_one_more_run(
    point_at, stores_env
):
    from sophia_cli.core.sync.run import run_sync

    with start_sandbox(seed=7, scale=0.1, adversities=Adversities(churn_per_page=5)) as handle:
        settings = point_at(handle, ASANA_SWEEP_HOURS="24")  # the second run is incremental
        assert run_sync(settings, ["asana"]).ok
        assert handle.sandbox.task_pages > 0
        handle.calm()
        assert run_sync(settings, ["asana"]).ok
        assert mismatches(stores_env["DATABASE_URL"], handle, ("asana.tasks",)) == {}
