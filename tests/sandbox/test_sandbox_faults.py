"""Scripted faults: each kind, per API, consumed exactly `count` times, matched by path."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sophia_cli.sandbox.api.app import SandboxHandle

CALLS = {
    "slack": ("GET", "/conversations.list", None),
    "asana": ("GET", "/workspaces", None),
    "hubspot": ("POST", "/crm/v3/objects/deals/search", {"limit": 1}),
    "gong": ("GET", "/v2/users", None),
}


@pytest.fixture
def setup(
    sandbox: SandboxHandle, api: dict[str, httpx.Client]
) -> Iterator[tuple[SandboxHandle, dict[str, httpx.Client]]]:
    """The module's sandbox with no fault pending before or after the test."""
    sandbox.sandbox.faults.clear()
    yield sandbox, api
    sandbox.sandbox.faults.clear()


def _call(api: dict[str, httpx.Client], name: str) -> httpx.Response:
    method, path, body = CALLS[name]
    return api[name].request(method, path, json=body)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_429_fault_sends_retry_after_then_recovers(setup: Any, name: str) -> None:
    sb, api = setup
    sb.add_fault(api=name, kind="429", count=2, retry_after=3, path=CALLS[name][1])
    first, second, third = (_call(api, name) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["Retry-After"] == "3"


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_error_faults(setup: Any, name: str, kind: str) -> None:
    sb, api = setup
    sb.add_fault(api=name, kind=kind)
    assert _call(api, name).status_code == int(kind)
    assert _call(api, name).status_code == 200


@pytest.mark.parametrize("name", sorted(CALLS))
def test_malformed_json_fault_is_200_with_a_cut_off_body(setup: Any, name: str) -> None:
    sb, api = setup
    sb.add_fault(api=name, kind="malformed_json")
    response = _call(api, name)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.parametrize(
    ("name", "missing"),
    [("slack", "channels"), ("asana", "next_page"), ("hubspot", "total"), ("gong", "users")],
)
def test_unexpected_shape_fault_is_valid_json_without_the_expected_keys(
    setup: Any, name: str, missing: str
) -> None:
    sb, api = setup
    sb.add_fault(api=name, kind="unexpected_shape")
    body = _call(api, name).json()
    assert missing not in body


def test_slow_fault_delays_then_answers_normally(setup: Any) -> None:
    sb, api = setup
    sb.add_fault(api="gong", kind="slow", delay_s=0.5)
    started = time.monotonic()
    response = api["gong"].get("/v2/users")
    assert response.status_code == 200 and time.monotonic() - started >= 0.5


def test_expired_offset_fault_is_asanas_400(setup: Any) -> None:
    sb, api = setup
    sb.add_fault(api="asana", kind="expired_offset")
    response = api["asana"].get("/workspaces")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("offset:")


def test_401_fault_on_slack_is_invalid_auth_with_http_200(setup: Any) -> None:
    sb, api = setup
    sb.add_fault(api="slack", kind="401")
    response = _call(api, "slack")
    assert response.status_code == 200 and response.json()["error"] == "invalid_auth"


def test_a_fault_for_one_path_leaves_other_paths_alone(setup: Any) -> None:
    sb, api = setup
    sb.add_fault(api="hubspot", kind="500", path="/crm/v3/objects/deals/search")
    assert api["hubspot"].get("/crm/v3/owners").status_code == 200
    assert _call(api, "hubspot").status_code == 500


def test_faults_are_scripted_listed_and_cleared_over_http(setup: Any) -> None:
    _, api = setup
    posted = api["control"].post(
        "/faults", json={"api": "gong", "kind": "500", "count": 4, "path": "v2/users"}
    )
    assert posted.json()["pending"][0]["path"] == "/v2/users"
    assert api["gong"].get("/v2/users").status_code == 500
    assert api["control"].get("/faults").json()["pending"][0]["count"] == 3
    api["control"].delete("/faults")
    assert api["gong"].get("/v2/users").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"api": "jira", "kind": "500"},
        {"api": "gong", "kind": "oops"},
        {"api": "gong", "kind": "500", "count": 0},
    ],
)
def test_bad_fault_requests_are_400(setup: Any, body: dict[str, Any]) -> None:
    _, api = setup
    response = api["control"].post("/faults", json=body)
    assert response.status_code == 400 and response.json()["error"]["message"]
