"""`--full`, `--since`, option errors and the progress view."""

from __future__ import annotations

import io

import psycopg
from rich.console import Console
from sync_helpers import mismatches

from sophia_cli.cli.sync import ProgressView
from sophia_cli.core.sync.models import RunStatus, StreamResult


def _forget(url: str, statement: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(statement).rowcount


def test_full_rereads_rows_the_bookmark_had_passed(sandbox, synced, stores_env):
    url = stores_env["DATABASE_URL"]
    synced(sandbox, ["hubspot", "slack"])
    lost = _forget(
        url,
        "DELETE FROM hubspot.deals WHERE id IN (SELECT id FROM hubspot.deals"
        " WHERE NOT archived LIMIT 7)",
    )
    lost += _forget(
        url, "DELETE FROM slack.messages WHERE thread_ts IS NOT NULL AND thread_ts <> ts"
    )
    no_sweep = {"SLACK_SWEEP_HOURS": "24"}  # a sweep would re-read recent threads too
    assert synced(sandbox, ["hubspot", "slack"], env=no_sweep).totals["inserted"] == 0
    report = synced(sandbox, ["hubspot", "slack"], full=True)
    assert report.totals["inserted"] == lost
    assert mismatches(url, sandbox, ("hubspot.deals", "slack.messages")) == {}


def test_since_rereads_records_modified_after_that_date(sandbox, synced, sophia, stores_env):
    url = stores_env["DATABASE_URL"]
    synced(sandbox, ["hubspot"])
    with psycopg.connect(url) as conn:
        cutoff = conn.execute("SELECT max(updated_at)::date FROM hubspot.deals").fetchone()
        recent = conn.execute(
            "DELETE FROM hubspot.deals WHERE updated_at >= %s AND NOT archived", cutoff
        ).rowcount
    assert recent > 0
    result = sophia("sync", "hubspot", "--since", cutoff[0].isoformat(), "--json")
    assert result.exit_code == 0, result.stderr
    assert mismatches(url, sandbox, ("hubspot.deals",)) == {}


def test_full_and_since_together_is_a_usage_error(sophia, stores_env):
    result = sophia("sync", "--full", "--since", "2026-01-01")
    assert result.exit_code == 2 and "cannot be combined" in result.stderr


def test_malformed_since_date_is_a_usage_error(sophia):
    result = sophia("sync", "--since", "last tuesday")
    assert result.exit_code == 2 and "--since" in result.stderr


def test_progress_view_tracks_each_stream_to_completion():
    screen = io.StringIO()
    view = ProgressView(Console(file=screen, force_terminal=True, width=100))
    with view.progress:
        running = StreamResult(source="gong", stream="calls", status=RunStatus.RUNNING)
        view(running)
        view(running.model_copy(update={"inserted": 40, "pages": 2}))
        view(running.model_copy(update={"inserted": 55, "pages": 3, "status": RunStatus.SUCCESS}))
    task = view.progress.tasks[0]
    assert task.description == "gong.calls" and task.finished
    assert task.fields == {"rows": 55, "pages": 3, "eta": ""}
    assert "gong.calls" in screen.getvalue()


def test_progress_view_shows_the_estimated_time_left_while_running():
    view = ProgressView(Console(file=io.StringIO(), force_terminal=True, width=120))
    with view.progress:
        view(
            StreamResult(
                source="slack",
                stream="messages",
                status=RunStatus.RUNNING,
                pages=40,
                progress=0.25,
                eta_s=5400.0,
            )
        )
    assert view.progress.tasks[0].fields["eta"] == ", 25% done, about 1.5h left (estimate)"
