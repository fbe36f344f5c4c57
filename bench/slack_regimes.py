"""Slack sync under each rate regime, on the sandbox's compressed clock, against the estimate.

    .venv/bin/python bench/slack_regimes.py [--scale 0.3] [--minute-s 0.2]

One Slack minute lasts `--minute-s` seconds in the sandbox (and in the client's pacing), so a
run's wall time divided by it is the time the same run would take against Slack. Both regimes
run in the same invocation: the internal app is the baseline of the limited one. The model of
`slack_estimate` is computed for the sandbox's own workspace and compared with what the runs
did, then scaled to a mid-size company (200 channels, 50k messages).
Uses DATABASE_URL when set (it must allow CREATE DATABASE), else the embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter

import psycopg

from sophia_cli.core.settings import load_settings
from sophia_cli.core.sync.connectors.slack_estimate import Workspace, estimate
from sophia_cli.core.sync.run import run_sync
from sophia_cli.sandbox.api.app import SandboxHandle, start_sandbox
from sophia_cli.store import migrations, postgres
from sophia_cli.store.databases import create_database, drop_database


def workspace_of(handle: SandboxHandle) -> Workspace:
    """The sandbox's readable channels and messages, with its real thread shape."""
    slack = handle.sandbox.data.slack
    readable = [c for c, ch in slack.channels.items() if ch["is_member"]]
    top = sum(len(slack.messages[c]) for c in readable)
    threads = [r for c in readable for r in slack.replies[c].values() if r]
    replies = sum(len(r) for r in threads)
    return Workspace(
        channels=len(readable),
        messages=top + replies,
        thread_share=len(threads) / top,
        replies_per_thread=replies / len(threads),
    )


def one_run(admin: str, regime: str, scale: float, minute_s: float) -> float:
    url = create_database(admin, prefix="sophia_bench_")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            migrations.upgrade(conn)
        with start_sandbox(
            seed=7, scale=scale, slack_regime=regime, slack_minute_s=minute_s, rate_limits="off"
        ) as handle:
            os.environ.update(handle.env)
            settings = load_settings(
                database_url=url,
                sync_rate_limits="published",
                sync_text_index=False,
                slack_app_regime=regime,
                slack_rate_minute_s=minute_s,
            )
            started = time.perf_counter()
            report = run_sync(settings, ["slack"])
            elapsed = time.perf_counter() - started
            calls = Counter(r["path"] for r in handle.requests("slack") if r["status"] == 200)
            refused = sum(1 for r in handle.requests("slack") if r["status"] == 429)
            model = estimate(workspace_of(handle), regime).first_sync
        history, replies = calls["/conversations.history"], calls["/conversations.replies"]
        print(
            f"  {regime:<9} {elapsed:6.1f} s = {elapsed / minute_s:7.0f} Slack min;"
            f" history {history} (model {model.history}), replies {replies}"
            f" (model {model.replies}), 429s {refused}; model"
            f" {model.minutes_overlapped:.0f}-{model.minutes:.0f} min (ok={report.ok})"
        )
        return elapsed
    finally:
        drop_database(admin, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--minute-s", type=float, default=0.2)
    args = parser.parse_args()
    admin = postgres.resolve_url(load_settings())
    print(
        f"first Slack sync of the sandbox (scale {args.scale:g}), paced by the client,"
        f" one Slack minute = {args.minute_s:g} s"
    )
    internal = one_run(admin, "internal", args.scale, args.minute_s)
    limited = one_run(admin, "limited", args.scale, args.minute_s)
    # The internal run is almost all local work (HTTP, PostgreSQL) on this compressed clock;
    # what the limited run takes beyond it is the regime's pacing.
    print(
        f"  limited / internal: {limited / internal:.1f}x wall time; pacing alone"
        f" {(limited - internal) / args.minute_s:.0f} Slack min"
    )
    print("estimate for 200 channels and 50,000 messages (15% threads, 3.5 replies, 2 years):")
    for regime in ("internal", "limited"):
        e = estimate(Workspace(channels=200, messages=50_000), regime)
        parts = {"first sync": e.first_sync, "one run": e.run, "daily sweep": e.sweep}
        text = ", ".join(
            f"{name} {c.history + c.replies} requests = {c.minutes_overlapped / 60:.1f}-"
            f"{c.minutes / 60:.1f} h"
            for name, c in parts.items()
        )
        print(f"  {regime:<9} {text}")


if __name__ == "__main__":
    main()
