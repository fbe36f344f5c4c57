"""Slack under its real limits: the 1/min regime, new messages only, the sweep, time boxes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import parse_qs

import psycopg
import pytest
from sync_helpers import mismatches, stream_counts

from sophia_cli.core.errors import UsageError
from sophia_cli.core.settings import load_settings
from sophia_cli.core.sync.connectors.slack_estimate import Workspace, estimate
from sophia_cli.core.sync.run import parse_duration, run_sync
from sophia_cli.sandbox.api.app import SandboxHandle, start_sandbox
from sophia_cli.store.databases import create_database, drop_database

SLACK_TABLES = ("slack.users", "slack.channels", "slack.messages")
MINUTE_S = 0.2  # one Slack minute on the compressed sandbox clock
MESSAGE_METHODS = ("/conversations.history", "/conversations.replies")


def _limited(scale: float = 0.05) -> SandboxHandle:
    return start_sandbox(
        seed=7, scale=scale, slack_regime="limited", slack_minute_s=MINUTE_S, rate_limits="off"
    )


def _paced(**extra: str) -> dict[str, str]:
    return {"SYNC_RATE_LIMITS": "published", "SLACK_RATE_MINUTE_S": str(MINUTE_S), **extra}


def _most_in_one_window(handle: SandboxHandle, path: str, window_s: float) -> int:
    """The most accepted requests to `path` in any window of `window_s` (sliding)."""
    times = sorted(
        r["t"] for r in handle.requests("slack") if r["path"] == path and r["status"] == 200
    )
    return max(
        (sum(1 for u in times[i:] if u < t + window_s) for i, t in enumerate(times)), default=0
    )


def _count(handle: SandboxHandle, path: str, status: int = 200) -> int:
    return sum(1 for r in handle.requests("slack") if r["path"] == path and r["status"] == status)


def _readable_channels(handle: SandboxHandle) -> int:
    return sum(1 for c in handle.sandbox.data.slack.channels.values() if c["is_member"])


def test_limited_regime_syncs_every_message_at_one_request_per_minute(point_at, stores_env):
    with _limited() as handle:
        report = run_sync(point_at(handle, **_paced(SLACK_APP_REGIME="limited")), ["slack"])
        assert report.ok, report.sources[0].error
        assert mismatches(stores_env["DATABASE_URL"], handle, SLACK_TABLES) == {}
        for path in MESSAGE_METHODS:
            assert _most_in_one_window(handle, path, MINUTE_S) == 1, path
            assert _count(handle, path, 429) == 0, path  # our pace, not the server, kept it
        messages = len(handle.expected("slack.messages"))
        pages = _count(handle, "/conversations.history") + _count(handle, "/conversations.replies")
        assert pages >= messages / 15  # at most 15 messages a request in this regime
        # The time estimates count requests the way this run made them.
        model = estimate(_workspace(handle), "limited").first_sync
        assert model.replies == _count(handle, "/conversations.replies")
        assert abs(model.history - _count(handle, "/conversations.history")) <= model.history / 4


def _workspace(handle: SandboxHandle) -> Workspace:
    slack = handle.sandbox.data.slack
    readable = [c for c, ch in slack.channels.items() if ch["is_member"]]
    top = sum(len(slack.messages[c]) for c in readable)
    threads = [r for c in readable for r in slack.replies[c].values() if r]
    replies = sum(len(r) for r in threads)
    return Workspace(len(readable), top + replies, len(threads) / top, replies / len(threads))


def test_a_limited_app_needs_days_where_an_internal_one_needs_hours():
    space = Workspace(channels=200, messages=50_000)
    internal, limited = estimate(space, "internal"), estimate(space, "limited")
    assert internal.first_sync.minutes < 3 * 60 < 72 * 60 < limited.first_sync.minutes_overlapped
    # One look at every channel costs a request each: minutes when internal, hours when not.
    assert internal.run.minutes < 5 and limited.run.minutes >= 200


def test_a_limited_app_is_detected_from_429s_and_slowed_to_its_regime(point_at, stores_env):
    with _limited() as handle:
        report = run_sync(point_at(handle, **_paced()), ["slack"])  # configured as internal
        assert report.ok, report.sources[0].error
        messages = next(s for s in report.sources[0].streams if s.stream == "messages")
        assert any("1 request/min" in note for note in messages.notes), messages.notes
        assert mismatches(stores_env["DATABASE_URL"], handle, SLACK_TABLES) == {}
        refused = sum(_count(handle, path, 429) for path in MESSAGE_METHODS)
        accepted = sum(_count(handle, path) for path in MESSAGE_METHODS)
        assert refused <= 4 < accepted  # after the first refusals, we kept to its pace


def test_a_run_without_sweep_asks_each_channel_only_for_new_messages(sandbox, synced, stores_env):
    no_sweep = {"SLACK_SWEEP_HOURS": "24"}
    synced(sandbox, ["slack"], env=no_sweep)
    sandbox.sandbox.log.clear()
    report = synced(sandbox, ["slack"], env=no_sweep)
    assert stream_counts(report)["slack.messages"] == (0, 0, 0)
    assert _count(sandbox, "/conversations.history") == _readable_channels(sandbox)
    assert _count(sandbox, "/conversations.replies") == 0


def test_new_messages_arrive_without_a_sweep_and_edits_with_it(sandbox, synced, stores_env):
    no_sweep = {"SLACK_SWEEP_HOURS": "24"}
    synced(sandbox, ["slack"], env=no_sweep)
    changes = sandbox.mutate()["changes"]["slack.messages"]
    new_parents = [i for i in changes["added"] if i.split(":")[1] in _parents(sandbox)]
    inserted, updated, _ = stream_counts(synced(sandbox, ["slack"], env=no_sweep))["slack.messages"]
    assert inserted == len(new_parents) and updated == 0
    report = synced(sandbox, ["slack"], env=no_sweep, sweep=True)
    assert stream_counts(report)["slack.messages"] == (
        len(changes["added"]) - len(new_parents),
        len(set(changes["updated"])),
        len(changes["deleted"]),
    )
    assert mismatches(stores_env["DATABASE_URL"], sandbox, ("slack.messages",)) == {}


def _parents(handle: SandboxHandle) -> set[str]:
    return {ts for messages in handle.sandbox.data.slack.messages.values() for ts in messages}


@pytest.mark.parametrize("kind", ["edit_reply", "delete_reply", "delete_parent"])
def test_the_sweep_catches_thread_changes_that_leave_the_parent_alone(
    sandbox, synced, stores_env, kind
):
    url = stores_env["DATABASE_URL"]
    synced(sandbox, ["slack"])
    change = sandbox.change_thread(kind)
    report = synced(sandbox, ["slack"], sweep=True)
    assert mismatches(url, sandbox, ("slack.messages",)) == {}
    with psycopg.connect(url) as conn:
        rows = dict(
            conn.execute(
                "SELECT ts, deleted FROM slack.messages WHERE channel_id = %s AND thread_ts = %s",
                (change["channel"], change["thread_ts"]),
            ).fetchall()
        )
    inserted, updated, deleted = stream_counts(report)["slack.messages"]
    if kind == "edit_reply":
        assert (inserted, deleted) == (0, 0) and updated >= 1
    elif kind == "delete_reply":
        assert rows[change["reply_ts"]] is True and deleted == 1
    else:  # Slack keeps a tombstone while the thread has replies: the replies stay
        assert rows[change["thread_ts"]] is True and deleted == 1
        assert not any(flag for ts, flag in rows.items() if ts != change["thread_ts"])


def test_max_duration_stops_at_a_page_boundary_and_the_next_runs_resume(point_at, stores_env):
    with _limited(scale=0.1) as handle:
        # Sweeps due every 24 h: the first read counts as one, so the backfill is all there is.
        settings = point_at(handle, **_paced(SLACK_APP_REGIME="limited", SLACK_SWEEP_HOURS="24"))
        first = run_sync(settings, ["slack"], max_duration="3s")
        messages = next(s for s in first.sources[0].streams if s.stream == "messages")
        assert first.ok and messages.status == "partial", messages
        assert 0 < (messages.progress or 0) < 1 and (messages.eta_s or 0) > 0
        assert "the next run resumes here" in messages.notes[-1]
        runs = 1
        while first.sources[0].status != "success" and runs < 30:
            first = run_sync(settings, ["slack"], max_duration="3s")
            runs += 1
        assert first.sources[0].status == "success" and runs > 2
        assert mismatches(stores_env["DATABASE_URL"], handle, SLACK_TABLES) == {}


@pytest.mark.parametrize("text", ["0", "-5", "soon", "5 weeks"])
def test_a_bad_max_duration_is_one_clear_line(text):
    with pytest.raises(UsageError, match="--max-duration"):
        parse_duration(text)


def test_max_duration_accepts_seconds_and_units():
    assert [parse_duration(t) for t in ("90", "45s", "50m", "2h", "1d", "1.5s")] == [
        90,
        45,
        3000,
        7200,
        86400,
        1.5,
    ]


def _history_calls(handle: SandboxHandle, channel: str) -> int:
    return sum(
        1
        for r in handle.requests("slack")
        if r["path"] == "/conversations.history"
        and r["status"] == 200
        and parse_qs(r["query"]).get("channel") == [channel]
    )


def _busiest_channel(handle: SandboxHandle) -> str:
    messages = handle.sandbox.data.slack.messages
    readable = [c for c, ch in handle.sandbox.data.slack.channels.items() if ch["is_member"]]
    return max(readable, key=lambda c: len(messages[c]))


def test_sigkill_in_the_middle_of_a_channel_resumes_it_instead_of_restarting(
    point_at, stores_env, pg_admin_url, warehouse_template
):
    env = _paced(SLACK_APP_REGIME="limited", SLACK_SWEEP_HOURS="24", SLACK_RATE_MINUTE_S="0.05")
    with start_sandbox(
        seed=7, scale=0.2, slack_regime="limited", slack_minute_s=0.05, rate_limits="off"
    ) as handle:
        channel = _busiest_channel(handle)
        reference = create_database(
            pg_admin_url, prefix="sophia_t_ref_", template=warehouse_template
        )
        try:
            point_at(handle, **env)
            assert run_sync(load_settings(database_url=reference), ["slack"]).ok
        finally:
            drop_database(pg_admin_url, reference)
        clean = _history_calls(handle, channel)
        assert clean >= 5  # the channel spans several pages of 15
        handle.sandbox.log.clear()
        process = subprocess.Popen(
            [sys.executable, "-m", "sophia_cli", "sync", "slack"],
            env=dict(os.environ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while process.poll() is None and _history_calls(handle, channel) < clean // 2 + 1:
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
            row = conn.execute(
                "SELECT cursor FROM sophia.sync_state"
                " WHERE source = 'slack' AND stream = 'messages'"
            ).fetchone()
            # The killed run's lease would expire within a minute; expire it now.
            conn.execute("UPDATE sophia.sync_leases SET expires_at = now() - interval '1 s'")
        assert row is not None
        reading = row[0]["channels"][channel]["reading"]
        assert reading is not None and reading["low"] != reading["target"]  # mid-channel
        before = _history_calls(handle, channel)
        assert run_sync(load_settings(), ["slack"]).ok
        assert mismatches(stores_env["DATABASE_URL"], handle, SLACK_TABLES) == {}
        # Resumed: at most the page in flight at the kill is read twice.
        assert _history_calls(handle, channel) <= clean + 1 < before + clean


def test_slack_changing_during_the_first_sync_is_exact_after_one_more_run(
    sandbox, synced, stores_env
):
    done = threading.Event()

    def meddle() -> None:
        """Once most channels are read, post, edit, delete and change threads."""
        late = _readable_channels(sandbox) - 1  # most channels already read
        while not done.is_set() and _count(sandbox, "/conversations.history") < late:
            time.sleep(0.001)
        sandbox.mutate()
        sandbox.change_thread("edit_reply")
        sandbox.mutate()
        sandbox.change_thread("delete_parent")

    meddler = threading.Thread(target=meddle)
    meddler.start()
    try:
        assert synced(sandbox, ["slack"]).ok
    finally:
        done.set()
        meddler.join()
    assert synced(sandbox, ["slack"]).ok  # one incremental run (its sweep is due in tests)
    assert mismatches(stores_env["DATABASE_URL"], sandbox, SLACK_TABLES) == {}
