"""sophia through a real PgBouncer in transaction mode: what Neon's pooled endpoint,
Supabase's pooler and RDS Proxy do too (each transaction may run on another server session).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from engines_helpers import Bouncer, in_transaction_mode
from psycopg import AsyncConnection

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.db.setup import upgrade_warehouse
from sophia_cli.core.settings import load_settings
from sophia_cli.core.sync import lease as sync_lease
from sophia_cli.core.sync.run import run_sync
from sophia_cli.sandbox.api.app import SandboxHandle
from sophia_cli.store import migrations, postgres

SYNC = [sys.executable, "-m", "sophia_cli", "sync"]


def _sync_env(monkeypatch: pytest.MonkeyPatch, url: str, sandbox: SandboxHandle) -> None:
    values = {
        "DATABASE_URL": url,
        **sandbox.env,
        "SYNC_RATE_LIMITS": "off",
        "SYNC_TEXT_INDEX": "false",
        "ASANA_SWEEP_HOURS": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_the_test_pooler_really_shares_server_sessions_between_clients(
    solo_bouncer: Bouncer, fresh_database_url: str
) -> None:
    assert in_transaction_mode(solo_bouncer.url_for(fresh_database_url))


def test_a_session_advisory_lock_excludes_nobody_through_the_pooler(
    solo_bouncer: Bouncer, fresh_database_url: str
) -> None:
    # Why sync holds a lease row instead: two clients both "get" the same session lock.
    url = solo_bouncer.url_for(fresh_database_url)
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as first:
        got_first = first.execute("SELECT pg_try_advisory_lock(42)").fetchone()
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as second:
            got_second = second.execute("SELECT pg_try_advisory_lock(42)").fetchone()
    assert got_first == (True,) and got_second == (True,)


def test_db_init_through_the_pooler_applies_every_migration(
    bouncer: Bouncer,
    fresh_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    sophia: Callable[..., Any],
) -> None:
    monkeypatch.setenv("DATABASE_URL", bouncer.url_for(fresh_database_url))
    result = sophia("db", "upgrade", "--json")
    assert result.exit_code == 0, result.stdout + result.stderr
    with psycopg.connect(fresh_database_url) as conn:
        assert migrations.state(conn).current


def test_concurrent_upgrades_through_the_pooler_apply_each_migration_once(
    bouncer: Bouncer, fresh_database_url: str
) -> None:
    url = bouncer.url_for(fresh_database_url)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
                applied.append([m.label for m in migrations.upgrade(conn)])
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    every = [label for labels in applied for label in labels]
    assert sorted(every) == sorted(m.label for m in migrations.discover())


def test_migrations_use_the_direct_url_when_one_is_given(
    bouncer: Bouncer, pg_admin_url: str, fresh_database_url: str
) -> None:
    from sophia_cli.store.databases import create_database, drop_database

    pooled_target = create_database(pg_admin_url)
    try:
        settings = load_settings(
            database_url=bouncer.url_for(pooled_target), database_direct_url=fresh_database_url
        )
        labels, before = upgrade_warehouse(settings)
        assert before == 0 and len(labels) == len(migrations.discover())
        with psycopg.connect(fresh_database_url) as conn:
            assert migrations.state(conn).current
        with psycopg.connect(pooled_target) as conn:
            assert migrations.read_applied(conn) == []
    finally:
        drop_database(pg_admin_url, pooled_target)


def test_through_a_pooler_no_statement_is_prepared_on_the_server(
    bouncer: Bouncer, warehouse_url: str
) -> None:
    settings = load_settings(database_url=bouncer.url_for(warehouse_url))
    with postgres.connect(settings, autocommit=True) as conn:
        for _ in range(10):
            conn.execute("SELECT count(*) FROM sophia.sync_runs WHERE source = %s", ("x",))
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert prepared == (0,)


def test_session_pooling_prepares_statements_run_often(warehouse_url: str) -> None:
    settings = load_settings(database_url=warehouse_url, database_pooling="session")
    with postgres.connect(settings, autocommit=True) as conn:
        for _ in range(10):
            conn.execute("SELECT count(*) FROM sophia.sync_runs WHERE source = %s", ("x",))
        prepared = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    assert prepared is not None and int(str(prepared[0])) >= 1


def test_psycopg_defaults_break_through_the_pooler_which_is_why_auto_never_prepares(
    bouncer: Bouncer, warehouse_url: str
) -> None:
    # The failure of the issue, reproduced: statements prepared on one server session are
    # missing on the other. Two clients alternate so the sessions really change hands.
    url = bouncer.url_for(warehouse_url)
    query = "SELECT count(*) FROM sophia.sync_runs WHERE source = %s"
    with pytest.raises(psycopg.Error, match="prepared statement|bind message"):  # noqa: PT012
        with psycopg.connect(url, autocommit=True) as one, psycopg.connect(url) as two:
            for _ in range(12):
                one.execute(query, ("x",), prepare=True)
                two.execute(query, ("y",), prepare=True)
                two.commit()


def test_a_full_sandbox_sync_through_the_pooler_loads_every_source(
    bouncer: Bouncer,
    warehouse_url: str,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sync_env(monkeypatch, bouncer.url_for(warehouse_url), sandbox)
    report = run_sync(load_settings())
    assert report.ok, [(s.source, s.error) for s in report.sources]
    expected = sandbox.expected("hubspot.deals")
    with psycopg.connect(warehouse_url) as conn:
        deals = conn.execute("SELECT count(*) FROM hubspot.deals").fetchone()
        leases = conn.execute("SELECT count(*) FROM sophia.sync_leases").fetchone()
        messages = conn.execute("SELECT count(*) FROM slack.messages").fetchone()
    assert deals == (len(expected),)
    assert messages is not None and int(str(messages[0])) > 0
    assert leases == (0,)  # every lease released at the end


def test_two_concurrent_syncs_through_the_pooler_one_says_already_running(
    bouncer: Bouncer,
    warehouse_url: str,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sync_env(monkeypatch, bouncer.url_for(warehouse_url), sandbox)
    sandbox.add_fault(api="hubspot", kind="slow", delay_s=4, count=1)
    spawn = [
        subprocess.Popen(
            [*SYNC, "hubspot", "--json"],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in spawn]
    assert [p.returncode for p in spawn] == [0, 0], outputs
    sources = [json.loads(out)["sources"][0] for out, _ in outputs]
    assert sorted(s["status"] for s in sources) == ["already_running", "success"]
    waiting = next(s for s in sources if s["status"] == "already_running")
    assert "held by" in waiting["error"] and "last heartbeat" in waiting["error"]


def test_ask_through_the_pooler_answers_what_it_answers_directly(
    bouncer: Bouncer,
    warehouse_url: str,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _sync_env(monkeypatch, bouncer.url_for(warehouse_url), sandbox)
    pooled_settings = load_settings()
    assert run_sync(pooled_settings, ["hubspot"]).ok
    today = datetime.now(UTC).date()
    direct = ask(
        load_settings(database_url=warehouse_url), "open deals by stage", today, use_cache=False
    )
    assert direct.rows
    # Several times: the read pool's transactions move between the pooler's sessions.
    for _ in range(6):
        answer = ask(pooled_settings, "open deals by stage", today, use_cache=False)
        assert (answer.sql, answer.rows) == (direct.sql, direct.rows)


def test_a_dead_holders_row_does_not_block_the_next_sync(
    warehouse_url: str, sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A row whose writer holds no lock (the process died): the next run takes over at once.
    _sync_env(monkeypatch, warehouse_url, sandbox)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO sophia.sync_leases (source, holder, expires_at)"
            " VALUES ('gong', 'dead-host:1:gone', now() + interval '1 minute')"
        )
    report = run_sync(load_settings(), ["gong"])
    assert [s.status.value for s in report.sources] == ["success"]


def test_a_live_holder_makes_the_sync_say_who_holds_it(
    bouncer: Bouncer, warehouse_url: str, sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = bouncer.url_for(warehouse_url)
    _sync_env(monkeypatch, url, sandbox)
    holding, done = threading.Event(), threading.Event()

    async def hold() -> None:
        async with sync_lease.held(url, "gong", "cron-7:4242:abc", wait=False) as got:
            assert isinstance(got, sync_lease.Lease)
            holding.set()
            await asyncio.to_thread(done.wait, 60)

    holder = threading.Thread(target=asyncio.run, args=(hold(),))
    holder.start()
    try:
        assert holding.wait(30)
        (result,) = run_sync(load_settings(), ["gong"]).sources
    finally:
        done.set()
        holder.join(30)
    assert result.status.value == "already_running"
    assert result.error is not None and "cron-7:4242:abc" in result.error
    assert run_sync(load_settings(), ["gong"]).ok  # released at the end of the block


def test_a_killed_syncs_lock_is_free_at_once_through_the_pooler(
    bouncer: Bouncer,
    warehouse_url: str,
    sandbox: SandboxHandle,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import signal
    import time

    _sync_env(monkeypatch, bouncer.url_for(warehouse_url), sandbox)
    sandbox.add_fault(api="hubspot", kind="slow", delay_s=20, count=1)
    victim = subprocess.Popen([*SYNC, "hubspot"], env=dict(os.environ))
    deadline = time.monotonic() + 60
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            leased = conn.execute("SELECT 1 FROM sophia.sync_leases WHERE source = 'hubspot'")
            # Killed inside its slow request: mid-run, and the successor does not inherit the
            # fault (waiting out its 20 s was most of this test's time).
            if leased.fetchone() and not sandbox.sandbox.faults.pending():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the first sync never took its lease and reached HubSpot")
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    (result,) = run_sync(load_settings(), ["hubspot"]).sources
    assert result.status.value == "success", result.error


def test_a_run_whose_lease_was_taken_over_cannot_commit_a_page(warehouse_url: str) -> None:
    async def scenario() -> None:
        async with await AsyncConnection.connect(warehouse_url, autocommit=True) as conn:
            assert await sync_lease.take(conn, "slack", "stalled", ttl_s=0.01)
            await asyncio.sleep(0.05)
            assert await sync_lease.take(conn, "slack", "successor")
            with pytest.raises(sync_lease.LeaseLostError):
                async with conn.transaction():
                    await sync_lease.fence(conn, sync_lease.Lease("slack", "stalled"))
            async with conn.transaction():
                await sync_lease.fence(conn, sync_lease.Lease("slack", "successor"))

    asyncio.run(scenario())


def test_the_heartbeat_keeps_a_short_lease_alive_while_the_run_works(warehouse_url: str) -> None:
    async def scenario() -> bool:
        # A 1 s lease renewed every 0.25 s: a beat may come up to 0.75 s late without the
        # lease lapsing (with 0.4 s, any 0.3 s stall of the loop or the database let the
        # intruder in, and the test failed for the machine's sake, not the heartbeat's).
        async with sync_lease.held(warehouse_url, "asana", "worker", wait=False, ttl_s=1.0) as got:
            assert isinstance(got, sync_lease.Lease)
            await asyncio.sleep(3.0)  # three lifetimes
            async with await AsyncConnection.connect(warehouse_url, autocommit=True) as other:
                return await sync_lease.take(other, "asana", "intruder")

    assert asyncio.run(scenario()) is False


@pytest.mark.parametrize(
    ("url", "pooler"),
    [
        ("postgresql://u:p@ep-cool-1-pooler.eu-central-1.aws.neon.tech/db", "Neon pooled endpoint"),
        ("postgresql://u:p@aws-0-eu-west-1.pooler.supabase.com:6543/postgres", "Supabase pooler"),
        ("postgresql://u:p@app.proxy-abc123.eu-west-1.rds.amazonaws.com/db", "RDS Proxy"),
        ("postgresql://u:p@db.internal:6432/db", "PgBouncer (port 6432)"),
        ("postgresql://u:p@ep-cool-123.eu-central-1.aws.neon.tech/db", None),
        ("postgresql://u:p@db.internal:5432/db", None),
    ],
)
def test_known_poolers_are_recognised_from_the_url(url: str, pooler: str | None) -> None:
    assert postgres.detect_pooler(url) == pooler
