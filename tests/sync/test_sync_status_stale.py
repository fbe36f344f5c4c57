"""`sync status` never claims a run that no process is doing (e.g. after Ctrl-C)."""

from __future__ import annotations

import psycopg


def _left_running(url: str) -> None:
    """What a sync killed mid-stream leaves behind: a run row still 'running'."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO sophia.sync_runs (run_id, source, stream, status)"
            " VALUES ('killed', 'gong', 'calls', 'running')"
        )


def _calls_status(sophia) -> str:  # type: ignore[no-untyped-def]
    result = sophia("sync", "status", "--json")
    assert result.exit_code == 0, result.stderr
    streams = {(s["source"], s["stream"]): s for s in result.json()["streams"]}
    return str(streams[("gong", "calls")]["last_status"])


def test_a_run_nobody_is_doing_shows_as_abandoned(sophia, stores_env) -> None:  # type: ignore[no-untyped-def]
    _left_running(stores_env["DATABASE_URL"])
    assert _calls_status(sophia) == "abandoned"


def test_a_run_in_progress_still_shows_as_running(sophia, stores_env) -> None:  # type: ignore[no-untyped-def]
    _left_running(stores_env["DATABASE_URL"])
    with psycopg.connect(stores_env["DATABASE_URL"], autocommit=True) as syncing:
        syncing.execute(
            "INSERT INTO sophia.sync_leases (source, holder, expires_at)"
            " VALUES ('gong', 'a live sync', now() + interval '1 minute')"
        )
        assert _calls_status(sophia) == "running"


def test_a_run_whose_lease_expired_shows_as_abandoned(sophia, stores_env) -> None:  # type: ignore[no-untyped-def]
    _left_running(stores_env["DATABASE_URL"])
    with psycopg.connect(stores_env["DATABASE_URL"], autocommit=True) as killed:
        killed.execute(
            "INSERT INTO sophia.sync_leases (source, holder, expires_at)"
            " VALUES ('gong', 'a killed sync', now() - interval '1 second')"
        )
    assert _calls_status(sophia) == "abandoned"
