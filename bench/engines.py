"""Benchmark of the production-engine changes, each against the way it replaced, same run:

- staging tables dropped at every commit (safe through a transaction pooler) against the
  session-lived staging table they replaced, on small and large pages;
- the sync lock (xact lock + lease row) against the session advisory lock it replaced;
- a full sandbox sync through PgBouncer in transaction mode against a direct connection.

    .venv/bin/python bench/engines.py [--rows 20000] [--scale 0.2]

Uses DATABASE_URL when set (it must allow CREATE DATABASE), else the embedded PostgreSQL;
PgBouncer must be installed (apt-get install pgbouncer). Scratch databases are dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from psycopg import AsyncConnection, sql

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "engines"))

from engines_helpers import pgbouncer  # noqa: E402

from sophia_cli.core.settings import load_settings  # noqa: E402
from sophia_cli.core.sync import lease  # noqa: E402
from sophia_cli.core.sync.connectors.hubspot_rows import DEALS  # noqa: E402
from sophia_cli.core.sync.load import copy_rows, dedupe, load, upsert_statement  # noqa: E402
from sophia_cli.store import postgres  # noqa: E402
from sophia_cli.store.databases import drop_database  # noqa: E402
from sync import Row, deals, scratch_database, truncate  # noqa: E402


async def dropped_each_commit(url: str, rows: list[Row], batch: int) -> None:
    """The engine's path now: `load` creates the staging table in every page's transaction."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        for start in range(0, len(rows), batch):
            async with conn.transaction():
                await load(conn, DEALS, rows[start : start + batch])


async def kept_for_the_session(url: str, rows: list[Row], batch: int) -> None:
    """Baseline: the previous path, one staging table per session emptied at each commit."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(
            sql.SQL(
                "CREATE TEMP TABLE {} (LIKE hubspot.deals INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            ).format(sql.Identifier(DEALS.staging))
        )
        for start in range(0, len(rows), batch):
            async with conn.transaction():
                await copy_rows(conn, DEALS, dedupe(DEALS, rows[start : start + batch]))
                await conn.execute(upsert_statement(DEALS))


def rate(count: int, action: object) -> float:
    started = time.perf_counter()
    asyncio.run(action)  # type: ignore[arg-type]
    return count / (time.perf_counter() - started)


def bench_staging(url: str, count: int, rounds: int = 3) -> None:
    print(
        f"staging: {count:,} generated deals upserted twice (insert, then every row changed),"
        f" methods alternated, best of {rounds}"
    )
    methods = {
        "dropped at commit": dropped_each_commit,
        "kept for the session": kept_for_the_session,
    }
    for batch in (50, 1000):
        best = dict.fromkeys(methods, (0.0, 0.0))
        for _ in range(rounds):
            for name, method in methods.items():
                truncate(url)
                inserted = rate(count, method(url, deals(count, 0), batch))
                updated = rate(count, method(url, deals(count, 1), batch))
                best[name] = (max(best[name][0], inserted), max(best[name][1], updated))
        for name, (inserted, updated) in best.items():
            print(f"  pages of {batch:>5}: {name:<22} {inserted:>9,.0f} rows/s insert,"
                  f" {updated:>9,.0f} rows/s update")  # fmt: skip
        now, before = best["dropped at commit"], best["kept for the session"]
        print(f"  pages of {batch:>5}: ratio now/before: insert {now[0] / before[0]:.2f}x,"
              f" update {now[1] / before[1]:.2f}x")  # fmt: skip


async def leases(url: str, count: int) -> float:
    """The engine's lock now: `held()` (two connections, the xact lock, the lease row)."""
    started = time.perf_counter()
    for i in range(count):
        async with lease.held(url, "bench", f"holder-{i}", wait=False) as got:
            assert isinstance(got, lease.Lease)
    return (time.perf_counter() - started) / count


async def advisory(url: str, count: int) -> float:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        for _ in range(count):
            await conn.execute("SELECT pg_try_advisory_lock(42)")
            await conn.execute("SELECT pg_advisory_unlock(42)")
        return (time.perf_counter() - started) / count


def bench_lock(url: str) -> None:
    count = 100
    took = asyncio.run(leases(url, count)) * 1000
    base = asyncio.run(advisory(url, count)) * 1000
    print(f"source lock, take + release, {count} times: xact lock + lease row (2 connections)"
          f" {took:.2f} ms, session advisory lock on an open connection {base:.2f} ms"
          f" (ratio {took / base:.1f}x); taken once per source per run")  # fmt: skip


def bench_pooler(admin: str, url: str, scale: float) -> None:
    from sophia_cli.core.sync.run import run_sync
    from sophia_cli.sandbox.api.app import start_sandbox

    print(f"full sandbox sync, scale {scale:g}, rate limits off, no text index, alternated:")
    with (
        start_sandbox(seed=7, scale=scale, rate_limits="off") as sandbox,
        pgbouncer(admin, pool_size=8) as bouncer,  # each running source pins one connection
    ):
        os.environ.update(sandbox.env)
        targets = {"direct": url, "PgBouncer (transaction)": bouncer.url_for(url)}
        times = {name: float("inf") for name in targets}
        for _ in range(2):  # alternated, best of two: the first run also warms the sandbox
            for name, target in targets.items():
                truncate_all(url)
                settings = load_settings(
                    database_url=target, sync_rate_limits="off", sync_text_index=False
                )
                started = time.perf_counter()
                report = run_sync(settings)
                assert report.ok, report
                times[name] = min(times[name], time.perf_counter() - started)
        for name, took in times.items():
            print(f"  {name:<24} {took:6.2f} s (best of 2)")
        ratio = times["PgBouncer (transaction)"] / times["direct"]
        print(f"  ratio pooled/direct: {ratio:.2f}x")


def truncate_all(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE hubspot.deals, hubspot.contacts, hubspot.companies, hubspot.owners,"
            " asana.tasks, slack.messages, gong.calls, sophia.sync_state, sophia.sync_runs CASCADE"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--scale", type=float, default=0.2)
    args = parser.parse_args()
    admin = postgres.resolve_url(load_settings())
    url = scratch_database(admin)
    try:
        print(f"PostgreSQL: {postgres.describe(admin)}")
        bench_staging(url, args.rows)
        bench_lock(url)
        bench_pooler(admin, url, args.scale)
    finally:
        drop_database(admin, url)


if __name__ == "__main__":
    main()
