"""Real processes: overlapping cron runs, and SIGKILL at random moments losing nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from sync_helpers import TABLES, TOMBSTONED

from sophia_cli.core.settings import load_settings
from sophia_cli.core.sync.run import run_sync
from sophia_cli.store.databases import create_database, drop_database

SYNC = [sys.executable, "-m", "sophia_cli", "sync"]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SYNC, *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_runs_one_works_the_other_says_already_running(sandbox, point_at):
    point_at(sandbox)
    # The first API request of the run holding the lock takes 4 s, so the runs overlap.
    sandbox.add_fault(api="hubspot", kind="slow", delay_s=4, count=1)
    first, second = _spawn("hubspot", "--json"), _spawn("hubspot", "--json")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    sources = [json.loads(out)["sources"][0] for out, _ in outputs]
    assert sorted(s["status"] for s in sources) == ["already_running", "success"]
    worked = next(s for s in sources if s["status"] == "success")
    assert sum(stream["inserted"] for stream in worked["streams"]) > 0


def test_wait_queues_behind_a_running_sync(sandbox, point_at):
    point_at(sandbox)
    sandbox.add_fault(api="gong", kind="slow", delay_s=3, count=1)
    first = _spawn("gong", "--json")
    time.sleep(1.5)
    second = _spawn("gong", "--wait", "--json")
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    statuses = [json.loads(out)["sources"][0]["status"] for out, _ in outputs]
    assert statuses == ["success", "success"], outputs


def _snapshot(url: str) -> dict[str, list[str]]:
    """Every row of every synced table (tombstones aside), as sorted text."""
    tables = {}
    with psycopg.connect(url) as conn:
        for table in TABLES:
            where = " WHERE NOT deleted" if table in TOMBSTONED else ""
            drop = "deleted_at" if table in TOMBSTONED else None
            columns = [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema || '.' || table_name = %s ORDER BY ordinal_position",
                    (table,),
                )
                if r[0] != drop
            ]
            rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table}{where}").fetchall()
            tables[table] = sorted(repr(row) for row in rows)
    return tables


@pytest.mark.slow
def test_sigkill_at_random_points_then_one_clean_run_equals_a_clean_full_sync(
    sandbox, point_at, stores_env, pg_admin_url, warehouse_template
):
    point_at(sandbox)
    rng = random.Random(20261124)
    kills = runs = 0
    while kills < 20 and runs < 60:
        runs += 1
        if runs % 5 == 0:
            sandbox.mutate()
        started = time.time()
        process = _spawn()
        # Kill after a random number of the run's API requests (plus a random few ms), so
        # each kill lands inside a sync, between or during page transactions.
        after = rng.randint(1, 30)
        while process.poll() is None and len(sandbox.requests(since=started)) < after:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        out, err = process.communicate(timeout=60)
        assert process.returncode in (0, -signal.SIGKILL), out + err
    assert kills >= 20
    clean = _spawn("--json")
    out, err = clean.communicate(timeout=120)
    assert clean.returncode == 0, out + err
    reference = create_database(pg_admin_url, prefix="sophia_t_ref_", template=warehouse_template)
    try:
        assert run_sync(load_settings(database_url=reference)).ok
        assert _snapshot(stores_env["DATABASE_URL"]) == _snapshot(reference)
    finally:
        drop_database(pg_admin_url, reference)
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        cut = conn.execute(
            "SELECT count(DISTINCT run_id) FROM sophia.sync_runs WHERE status = 'abandoned'"
        ).fetchone()
    assert cut is not None and cut[0] >= 15  # most kills landed in the middle of a run
