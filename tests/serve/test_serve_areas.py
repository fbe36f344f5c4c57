"""The area routes answer exactly what the core (and so the CLI) answers."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import Api

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.status import sync_status

TESTS = Path(__file__).parent.parent
sys.path.insert(0, str(TESTS / "ask"))

from ask_fixture_data import AS_OF, load  # noqa: E402


@pytest.fixture(scope="module")
def company_loaded(module_warehouse_url: str) -> str:
    """The module's warehouse filled (once) with the ask fixtures' company."""
    load(module_warehouse_url)
    return module_warehouse_url


@pytest.fixture
def company(company_loaded: str, api_settings: Settings) -> Settings:
    return api_settings


def test_ask_route_returns_what_core_ask_returns(
    company: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    api = make_api(company)
    question = "won revenue last quarter"
    response = api.post(
        "/v1/ask", token=token("ask"), json={"question": question, "as_of": AS_OF.isoformat()}
    )
    assert response.status_code == 200, response.text
    expected = ask(company, question, AS_OF, use_cache=False).model_dump(mode="json")
    assert response.json() == expected


def test_ask_route_refuses_what_it_cannot_understand_with_suggestions(
    company: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    response = make_api(company).post(
        "/v1/ask", token=token("ask"), json={"question": "what is the airspeed of a swallow"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "not_understood"
    assert body["suggestions"]


@pytest.mark.parametrize(
    "body", [{}, {"question": ""}, {"question": "x", "as_of": "yesterday"}, {"question": 7}]
)
def test_ask_route_rejects_malformed_bodies(
    api: Api, token: Callable[..., str], body: dict[str, Any]
) -> None:
    response = api.post("/v1/ask", token=token("ask"), json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_query_route_runs_guarded_sql(
    company: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    api = make_api(company)
    response = api.post(
        "/v1/query",
        token=token("query"),
        json={"sql": "SELECT count(*) AS n FROM hubspot.deals", "limit": 5},
    )
    assert response.status_code == 200, response.text
    assert response.json()["columns"] == ["n"]
    assert response.json()["rows"][0][0] > 0


def test_query_route_refuses_writes(
    company: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    response = make_api(company).post(
        "/v1/query", token=token("query"), json={"sql": "DELETE FROM hubspot.deals"}
    )
    assert 400 <= response.status_code < 500
    assert set(response.json()["error"]) == {"code", "message", "hint"}


def test_query_needs_the_query_scope(api: Api, token: Callable[..., str]) -> None:
    response = api.post("/v1/query", token=token("ask"), json={"sql": "SELECT 1"})
    assert response.status_code == 403


def test_search_route_answers_on_an_empty_index(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/search?q=pricing&limit=5", token=token("ask"))
    assert response.status_code == 200, response.text
    assert response.json()["query"] == "pricing"
    assert response.json()["hits"] == []


def test_search_route_rejects_an_unknown_source(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/search?q=pricing&source=myspace", token=token("ask"))
    assert response.status_code == 422


def test_sync_starts_in_the_background_and_reports_by_run_id(
    api: Api, api_settings: Settings, token: Callable[..., str]
) -> None:
    bearer = token("sync")
    started = api.post("/v1/sync", token=bearer, json={})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    assert started.json()["state"] == "running"
    deadline = time.monotonic() + 30
    job = started.json()
    while job["state"] == "running" and time.monotonic() < deadline:
        api.run(__import__("asyncio").sleep(0.2))
        job = api.get(f"/v1/sync/runs/{run_id}", token=bearer).json()
    assert job["state"] == "finished", job
    # No source has a token here: each is skipped, none fails.
    assert {source["status"] for source in job["report"]["sources"]} == {"skipped"}


def test_a_sync_started_through_the_api_has_one_id_and_the_clis_report_fields(
    api: Api, token: Callable[..., str]
) -> None:
    bearer = token("sync")
    job = api.post("/v1/sync", token=bearer, json={}).json()
    deadline = time.monotonic() + 30
    while job["state"] == "running" and time.monotonic() < deadline:
        api.run(__import__("asyncio").sleep(0.2))
        job = api.get(f"/v1/sync/runs/{job['run_id']}", token=bearer).json()
    report = job["report"]
    assert report["run_id"] == job["run_id"]  # the job id is the run id sync_runs records
    assert report["ok"] is True
    assert report["totals"] == {"inserted": 0, "updated": 0, "deleted": 0}


def test_an_unknown_sync_run_is_404(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/sync/runs/nope", token=token("sync"))
    assert response.status_code == 404


def test_sync_with_an_unknown_source_is_refused_before_a_job_starts(
    api: Api, token: Callable[..., str]
) -> None:
    response = api.post("/v1/sync", token=token("sync"), json={"sources": ["myspace"]})
    assert response.status_code == 422
    assert "myspace" in response.json()["error"]["message"]
    assert "run_id" not in response.json()


def test_sync_status_route_returns_core_sync_status(
    api: Api, api_settings: Settings, token: Callable[..., str]
) -> None:
    def without_lag(status: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in s.items() if k != "lag_s"} for s in status["streams"]]

    response = api.get("/v1/sync/status", token=token("sync"))
    assert response.status_code == 200, response.text
    expected = sync_status(api_settings).model_dump(mode="json")
    assert without_lag(response.json()) == without_lag(expected)  # lag_s moves with the clock
