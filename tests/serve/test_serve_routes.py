"""Every route in-process: shapes, the one error body, readiness, metrics, gzip, legacy."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest
from serve_helpers import Api, free_port

from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.server.ports import PortPlan

ERROR_KEYS = {"code", "message", "hint"}


def test_health_answers_without_dependencies_and_names_sophia(
    monkeypatch: pytest.MonkeyPatch, secret: str, make_api: Callable[..., Api]
) -> None:
    # Both stores point at closed ports: /health must not care.
    closed = free_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{closed}/x")
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed}/0")
    response = make_api(load_settings()).get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.headers["x-served-by"].startswith("sophia/")


def test_ready_is_200_with_the_doctor_report_when_stores_answer(api: Api) -> None:
    response = api.get("/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is True
    names = {check["name"] for check in body["report"]["checks"]}
    assert {"postgres", "redis"} <= names


def test_ready_is_503_when_postgresql_is_down(
    monkeypatch: pytest.MonkeyPatch, api_settings: Settings, make_api: Callable[..., Api]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    response = make_api(load_settings()).get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "service_unavailable"
    assert "postgres" in body["error"]["message"]
    failed = {c["name"] for c in body["report"]["checks"] if c["status"] == "fail"}
    assert "postgres" in failed


def test_unknown_route_is_404_in_the_error_shape(api: Api) -> None:
    response = api.get("/v1/nope")
    assert response.status_code == 404
    assert set(response.json()["error"]) == ERROR_KEYS


def test_wrong_method_is_405_in_the_error_shape(api: Api) -> None:
    response = api.post("/health")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_bad_query_parameter_is_422_in_the_error_shape(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/squad/spend?days=zero", token=token("squad"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "days" in error["message"]


def test_core_errors_keep_their_status_and_code(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/squad/spend?by=colour", token=token("squad"))
    assert response.status_code == 422
    assert set(response.json()["error"]) == ERROR_KEYS


def test_openapi_documents_every_route_and_bearer_auth(api: Api) -> None:
    schema = api.get("/openapi.json").json()
    assert {"/health", "/ready", "/metrics", "/v1/squad/budget", "/v1/env/check"} <= set(
        schema["paths"]
    )
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert api.get("/docs").status_code == 200


def test_metrics_count_requests_by_route_and_status(api: Api) -> None:
    for _ in range(3):
        api.get("/health")
    api.get("/v1/nope")
    text = api.get("/metrics").text
    assert (
        'sophia_http_requests_total{method="GET",port="api",route="/health",status="200"} 3.0'
        in text
    )
    assert 'route="unmatched",status="404"' in text
    assert 'sophia_http_request_duration_seconds_count{method="GET",route="/health"} 3.0' in text


def test_large_responses_are_gzipped_when_asked(api: Api) -> None:
    response = api.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["info"]["title"] == "sophia"  # httpx decoded it


def test_responses_are_plain_without_accept_encoding(api: Api) -> None:
    response = api.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers


def test_gzip_body_is_smaller_than_the_json(api: Api) -> None:
    raw = api.run(api.client.get("/openapi.json", headers={"Accept-Encoding": "gzip"}))
    plain = api.get("/openapi.json", headers={"Accept-Encoding": "identity"}).content
    compressed_size = int(raw.headers.get("content-length", 0))
    assert 0 < compressed_size < len(plain)
    assert gzip.decompress(gzip.compress(plain)) == plain


def test_legacy_port_answers_the_same_routes_marked_deprecated(
    api_settings: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    plan = PortPlan(api=8000, legacy=8003)
    legacy = make_api(api_settings, base_url="http://bridge.internal:8003", ports=plan)
    response = legacy.get("/v1/squad/budget?x=1", token=token("squad", sub="bridge"))
    assert response.status_code == 200
    assert response.headers["deprecation"] == "true"
    assert response.headers["link"] == (
        '<http://bridge.internal:8000/v1/squad/budget>; rel="successor-version"'
    )
    text = legacy.get("/metrics").text
    assert 'sophia_legacy_requests_total{caller="bridge",route="/v1/squad/budget"} 1.0' in text
    assert 'port="legacy",route="/v1/squad/budget",status="200"' in text


def test_api_port_responses_are_not_deprecated(
    api_settings: Settings, make_api: Callable[..., Api]
) -> None:
    plan = PortPlan(api=8000, legacy=8003)
    response = make_api(api_settings, base_url="http://h:8000", ports=plan).get("/health")
    assert "deprecation" not in response.headers


def test_metrics_port_serves_only_metrics_and_health(
    api_settings: Settings, make_api: Callable[..., Api]
) -> None:
    plan = PortPlan(api=8000, metrics=9100)
    on_metrics = make_api(api_settings, base_url="http://h:9100", ports=plan)
    on_api = make_api(api_settings, base_url="http://h:8000", ports=plan)
    assert on_metrics.get("/metrics").status_code == 200
    assert on_metrics.get("/health").status_code == 200
    assert on_metrics.get("/v1/squad/budget").status_code == 404
    assert on_api.get("/metrics").status_code == 404


def test_metrics_need_admin_in_production_without_a_metrics_port(
    monkeypatch: pytest.MonkeyPatch,
    api_settings: Settings,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    monkeypatch.setenv("SOPHIA_ENV", "production")
    production = make_api(load_settings())
    assert production.get("/metrics").status_code == 401
    assert production.get("/metrics", token=token("ask")).status_code == 403
    assert production.get("/metrics", token=token("admin")).status_code == 200


def test_doctor_route_returns_the_doctor_report(api: Api, token: Callable[..., str]) -> None:
    body = api.get("/v1/doctor", token=token("admin")).json()
    assert body["summary"]["ok"] >= 1
    assert any(check["name"] == "postgres" for check in body["checks"])


def test_db_status_route_lists_every_store(api: Api, token: Callable[..., str]) -> None:
    body = api.get("/v1/db/status", token=token("admin")).json()
    assert [store["store"] for store in body["stores"]] == ["warehouse", "cache", "vectors"]
    assert body["stores"][0]["reachable"] is True


def test_env_check_route_masks_secrets(api: Api, token: Callable[..., str], secret: str) -> None:
    body = api.get("/v1/env/check", token=token("admin")).json()
    assert "summary" in body and "variables" in body
    assert secret not in str(body)


def test_squad_budget_route_matches_the_settings(api: Api, token: Callable[..., str]) -> None:
    body = api.get("/v1/squad/budget", token=token("squad")).json()
    assert body["budget_usd"] == 100.0
    assert body["spent_usd"] == 0


def test_squad_spend_route_groups_by_day(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/squad/spend?days=3&by=day", token=token("squad"))
    assert response.status_code == 200, response.text
    assert response.json()["days"] == 3


def test_an_unexpected_error_is_a_500_in_the_error_shape_and_logged_once(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom() -> None:
        raise RuntimeError("secret internals")

    api.app.add_api_route("/boom", boom)
    response = api.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "error"
    assert "secret internals" not in response.text
    assert response.headers["x-served-by"].startswith("sophia/")
    assert [r.message for r in caplog.records if "unhandled error" in r.message] == [
        "unhandled error on GET /boom"
    ]
    assert api.get("/health").status_code == 200


def test_a_warehouse_without_its_schema_says_to_upgrade(
    monkeypatch: pytest.MonkeyPatch,
    api_settings: Settings,
    fresh_database_url: str,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    response = make_api(load_settings()).get("/v1/squad/spend", token=token("squad"))
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "migration"
    assert "sophia db upgrade" in response.json()["error"]["hint"]


def test_ready_runs_only_required_checks(api: Api) -> None:
    checks = api.get("/ready").json()["report"]["checks"]
    assert checks and all(check["required"] for check in checks)
    assert not any(check["name"].startswith("sync-") for check in checks)


def test_ready_reuses_a_fresh_report(api: Api) -> None:
    first = api.get("/ready").json()["report"]
    second = api.get("/ready").json()["report"]
    assert second == first
