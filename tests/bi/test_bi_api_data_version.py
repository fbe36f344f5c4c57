"""`GET /v1/data-version`: a version that changes whenever a sync writes, and each source's
freshness (a real sync against the sandbox over HTTP)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from serve_helpers import SECRET, Api
from sync_helpers import SMALL

from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.sync.run import run_sync
from sophia_cli.sandbox.api.app import SandboxHandle, start_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(seed=7, scale=SMALL, rate_limits="off") as handle:
        yield handle


@pytest.fixture
def synced_settings(
    monkeypatch: pytest.MonkeyPatch,
    warehouse_url: str,
    redis_url: str,
    redis_prefix: str,
    sandbox: SandboxHandle,
) -> Settings:
    """An empty warehouse of this test's own, pointed at the sandbox."""
    values = {
        **sandbox.env,
        "DATABASE_URL": warehouse_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "JWT_SECRET": SECRET,
        "SYNC_RATE_LIMITS": "off",
        "SYNC_TEXT_INDEX": "false",
        "ASANA_SWEEP_HOURS": "0",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def _version(api: Api, token: str) -> dict[str, object]:
    response = api.get("/v1/data-version", token=token)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_the_version_changes_after_a_sync_and_the_source_says_when(
    synced_settings: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    api = make_api(synced_settings)
    before = _version(api, token("ask"))
    assert {"source": "asana", "last_success": None, "status": "never"} in before["sources"]  # type: ignore[operator]
    run_sync(synced_settings, ["asana"])
    after = _version(api, token("ask"))
    assert after["version"] != before["version"]
    asana = next(s for s in after["sources"] if s["source"] == "asana")  # type: ignore[attr-defined]
    assert asana["status"] == "success"
    assert asana["last_success"] is not None
    assert _version(api, token("ask"))["version"] == after["version"]


def test_every_declared_source_is_listed(api: Api, token: Callable[..., str]) -> None:
    from sophia_cli.core.sync.connectors import registry

    sources = _version(api, token("ask"))["sources"]
    assert [s["source"] for s in sources] == [c.name for c in registry.all()]  # type: ignore[attr-defined]


def test_data_version_needs_the_ask_scope(api: Api, token: Callable[..., str]) -> None:
    assert api.get("/v1/data-version", token=token("squad")).status_code == 403


@pytest.fixture
def runs_api(
    bi_env: dict[str, str],
    warehouse_url: str,
    monkeypatch: pytest.MonkeyPatch,
    make_api: Callable[..., Api],
) -> tuple[Api, Callable[..., None]]:
    """A server over an empty warehouse, and `record(run, stream, status, minutes_ago)`
    writing a hubspot sync run record as the sync engine does."""
    import psycopg

    monkeypatch.setenv("DATABASE_URL", warehouse_url)

    def record(run: str, stream: str, status: str, minutes_ago: int) -> None:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO sophia.sync_runs (run_id, source, stream, started_at, finished_at,"
                " status) VALUES (%s, 'hubspot', %s, now() - make_interval(mins => %s),"
                " CASE WHEN %s = 'running' THEN NULL"
                " ELSE now() - make_interval(mins => %s) + interval '1 minute' END, %s)",
                (run, stream, minutes_ago, status, minutes_ago, status),
            )

    return make_api(load_settings()), record


def _hubspot(api: Api, token: str) -> dict[str, object]:
    sources = _version(api, token)["sources"]
    return next(s for s in sources if s["source"] == "hubspot")  # type: ignore[attr-defined, no-any-return]


def test_a_failed_stream_in_the_latest_run_makes_the_source_failed(
    runs_api: tuple[Api, Callable[..., None]], token: Callable[..., str]
) -> None:
    api, record = runs_api
    record("r1", "owners", "success", 60)
    record("r1", "companies", "success", 60)
    record("r2", "owners", "success", 5)
    record("r2", "companies", "failed", 5)
    hubspot = _hubspot(api, token("ask"))
    assert hubspot["status"] == "failed"
    assert hubspot["last_success"] is not None


def test_a_run_no_process_holds_reads_as_abandoned(
    runs_api: tuple[Api, Callable[..., None]], token: Callable[..., str]
) -> None:
    api, record = runs_api
    record("r1", "owners", "running", 5)
    assert _hubspot(api, token("ask"))["status"] == "abandoned"


def test_a_stream_that_fails_after_writing_moves_the_version(
    runs_api: tuple[Api, Callable[..., None]], token: Callable[..., str], warehouse_url: str
) -> None:
    """Pages are committed as they arrive, so a failed stream may have changed the data: the
    answers cached before it must not outlive it."""
    import psycopg

    api, record = runs_api
    record("r1", "deals", "success", 60)
    record("r2", "deals", "running", 1)
    before = _version(api, token("ask"))["version"]
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE sophia.sync_runs SET status = 'failed', finished_at = now() WHERE run_id = 'r2'"
        )
    assert _version(api, token("ask"))["version"] != before


def test_a_rebuilt_warehouse_never_reuses_an_earlier_version(
    runs_api: tuple[Api, Callable[..., None]], token: Callable[..., str], warehouse_url: str
) -> None:
    """Answers of a dropped warehouse may still sit in Redis: the same number of runs after a
    rebuild must not reach them."""
    import psycopg

    api, record = runs_api
    record("r1", "deals", "success", 60)
    first = _version(api, token("ask"))["version"]
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("UPDATE sophia.data_epoch SET epoch = md5(random()::text)")
    assert _version(api, token("ask"))["version"] != first
