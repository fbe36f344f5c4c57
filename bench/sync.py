"""Benchmark of `sophia sync`: the upsert path, against a plain executemany baseline, and a
full sandbox sync with rate limits off.

    .venv/bin/python bench/sync.py [--rows 120000] [--batch 1000] [--scale 1.0]

Uses DATABASE_URL when set (it must allow CREATE DATABASE), else the embedded PostgreSQL.
Every figure is measured in a scratch database created and dropped by this run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import AsyncConnection

from sophia_cli.core.settings import load_settings
from sophia_cli.core.sync.connectors.hubspot_rows import DEALS
from sophia_cli.core.sync.load import load
from sophia_cli.store import migrations, postgres
from sophia_cli.store.databases import create_database, dbname_of, drop_database

Row = dict[str, Any]


def scratch_database(admin_url: str) -> str:
    """Create a migrated scratch database; returns its conninfo."""
    url = create_database(admin_url, prefix="sophia_bench_")
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.upgrade(conn)
    return url


def deals(count: int, version: int) -> list[Row]:
    """Generated deal rows; `version` changes amount and updated_at of every row."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    return [
        {
            "id": str(10_000_000 + i),
            "name": f"Deal {i}",
            "amount": Decimal(1000 + i % 997 + version),
            "pipeline": "default",
            "stage": "closedwon" if i % 3 == 0 else "qualifiedtobuy",
            "close_date": base + timedelta(days=i % 700),
            "is_closed": i % 3 == 0,
            "is_won": i % 6 == 0,
            "owner_id": str(i % 25),
            "company_id": str(i % 600),
            "created_at": base,
            "updated_at": base + timedelta(seconds=i + version),
            "archived": False,
            "archived_at": None,
            "merged_object_ids": None,
        }
        for i in range(count)
    ]


async def copy_upsert(url: str, rows: list[Row], batch: int) -> None:
    """The engine's path: one transaction per page, COPY into staging, INSERT … ON CONFLICT."""
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        for start in range(0, len(rows), batch):
            async with conn.transaction():
                await load(conn, DEALS, rows[start : start + batch])


def executemany_upsert(url: str, rows: list[Row], batch: int) -> None:
    """Baseline: the same upsert statement per row through executemany, same pages."""
    columns = list(DEALS.columns)
    values = [c for c in columns if c != "id"]
    statement = (
        f"INSERT INTO hubspot.deals AS t ({', '.join(columns)})"
        f" VALUES ({', '.join(['%s'] * len(columns))})"
        f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in values)}"
        f" WHERE ({', '.join(f't.{c}' for c in values)})"
        f" IS DISTINCT FROM ({', '.join(f'EXCLUDED.{c}' for c in values)})"
    )
    with psycopg.connect(url) as conn:
        for start in range(0, len(rows), batch):
            with conn.transaction(), conn.cursor() as cursor:
                page = rows[start : start + batch]
                cursor.executemany(statement, [tuple(r.get(c) for c in columns) for r in page])


def timed(label: str, count: int, action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    rate = count / (time.perf_counter() - started)
    print(f"  {label:<44} {rate:>10,.0f} rows/s")
    return rate


def truncate(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE hubspot.deals")


def phases(
    url: str, name: str, run: Callable[[list[Row]], None], fresh: list[Row], changed: list[Row]
) -> list[float]:
    """Rows/s of one method: into an empty table, the same rows again, every row changed."""
    truncate(url)
    return [
        timed(f"{name}: insert into empty table", len(fresh), lambda: run(fresh)),
        timed(f"{name}: same rows again (no-op)", len(fresh), lambda: run(fresh)),
        timed(f"{name}: every row changed", len(changed), lambda: run(changed)),
    ]


def bench_upsert(url: str, count: int, batch: int) -> None:
    print(f"upsert path: {count:,} generated deals, pages of {batch:,} rows, one transaction each")
    fresh, changed = deals(count, 0), deals(count, 1)
    methods: dict[str, Callable[[list[Row]], None]] = {
        "COPY + ON CONFLICT": lambda rows: asyncio.run(copy_upsert(url, rows, batch)),
        "executemany INSERT … ON CONFLICT": lambda rows: executemany_upsert(url, rows, batch),
    }
    results = {name: phases(url, name, run, fresh, changed) for name, run in methods.items()}
    copy, many = results["COPY + ON CONFLICT"], results["executemany INSERT … ON CONFLICT"]
    for phase, a, b in zip(("insert", "no-op", "update"), copy, many, strict=True):
        print(f"  ratio COPY / executemany ({phase}): {a / b:.1f}x")


def bench_sandbox(url: str, scale: float) -> None:
    from sophia_cli.core.sync.run import run_sync
    from sophia_cli.sandbox.api.app import start_sandbox

    print(
        f"full sandbox sync: scale {scale:g}, rate limits off (sandbox and client), no text index"
    )
    with start_sandbox(seed=7, scale=scale, rate_limits="off") as sandbox:
        os.environ.update(sandbox.env)
        settings = load_settings(database_url=url, sync_rate_limits="off", sync_text_index=False)
        runs = (
            ("first (full) run", False),
            ("second run (nothing changed)", False),
            ("--full run (reconciles, sweeps)", True),
        )
        for label, full in runs:
            started = time.perf_counter()
            report = run_sync(settings, full=full)
            elapsed = time.perf_counter() - started
            totals = report.totals
            rows = sum(s.inserted + s.updated for src in report.sources for s in src.streams)
            pages = sum(s.pages for src in report.sources for s in src.streams)
            print(
                f"  {label:<30} {elapsed:6.2f} s, {pages} pages, {totals['inserted']:,} inserted,"
                f" {totals['updated']:,} updated; {rows / elapsed:,.0f} rows written/s"
                f" (ok={report.ok})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    admin = postgres.resolve_url(load_settings())
    url = scratch_database(admin)
    try:
        print(f"PostgreSQL: {postgres.describe(admin)} (scratch database {dbname_of(url)})")
        bench_upsert(url, args.rows, args.batch)
        truncate(url)
        bench_sandbox(url, args.scale)
    finally:
        drop_database(admin, url)


if __name__ == "__main__":
    main()
