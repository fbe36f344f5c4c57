"""The rate limit: per subject and route, shared through Redis by every process."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr
from serve_helpers import Api, Server, free_port

from sophia_cli.core.settings import Settings, load_settings

ROUTE = "/v1/squad/budget"


@pytest.fixture
def limited(
    monkeypatch: pytest.MonkeyPatch, api_settings: Settings, make_api: Callable[..., Api]
) -> Api:
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "3")
    return make_api(load_settings())


def test_requests_within_the_limit_carry_ratelimit_headers(
    limited: Api, token: Callable[..., str]
) -> None:
    response = limited.get(ROUTE, token=token("squad"))
    assert response.status_code == 200
    assert response.headers["ratelimit-limit"] == "3"
    assert response.headers["ratelimit-remaining"] == "2"
    assert 0 < int(response.headers["ratelimit-reset"]) <= 60
    assert response.headers["ratelimit-policy"] == "3;w=60"


def test_the_request_over_the_limit_is_429_with_retry_after(
    limited: Api, token: Callable[..., str]
) -> None:
    bearer = token("squad")
    statuses = [limited.get(ROUTE, token=bearer).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = limited.get(ROUTE, token=bearer)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-remaining"] == "0"
    text = limited.get("/metrics").text
    assert f'sophia_rate_limit_refusals_total{{route="{ROUTE}"}} 2.0' in text


def test_each_subject_has_its_own_window(limited: Api, token: Callable[..., str]) -> None:
    for _ in range(3):
        limited.get(ROUTE, token=token("squad", sub="alice"))
    assert limited.get(ROUTE, token=token("squad", sub="alice")).status_code == 429
    assert limited.get(ROUTE, token=token("squad", sub="bob")).status_code == 200


def test_each_route_has_its_own_window(limited: Api, token: Callable[..., str]) -> None:
    bearer = token("squad")
    for _ in range(3):
        limited.get(ROUTE, token=bearer)
    assert limited.get("/v1/squad/spend", token=bearer).status_code == 200


def test_open_routes_are_not_limited(limited: Api) -> None:
    assert all(limited.get("/health").status_code == 200 for _ in range(6))


def test_rejected_tokens_do_not_consume_the_window(limited: Api, token: Callable[..., str]) -> None:
    for _ in range(5):
        limited.get(ROUTE, token="garbage")
    assert limited.get(ROUTE, token=token("squad")).headers["ratelimit-remaining"] == "2"


def test_a_redis_outage_admits_requests_and_is_counted(
    monkeypatch: pytest.MonkeyPatch,
    api_settings: Settings,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    api = make_api(api_settings)
    # Point only the limiter at a closed port: the route itself does not need Redis here.
    api.app.state.sophia.limiter.settings = api_settings.model_copy(
        update={"redis_url": SecretStr(f"redis://127.0.0.1:{free_port()}/0")}
    )
    response = api.get("/health")
    assert response.status_code == 200
    response = api.get("/v1/env/check", token=token("admin"))
    assert response.status_code == 200
    assert "ratelimit-limit" not in response.headers
    assert "sophia_rate_limit_store_errors_total 1.0" in api.get("/metrics").text


def test_three_server_processes_share_one_limit(
    api_settings: Settings,
    stores_env: dict[str, str],
    token: Callable[..., str],
    start_server: Callable[..., Server],
) -> None:
    limit = 10
    env = {
        **stores_env,
        "JWT_SECRET": os.environ["JWT_SECRET"],
        "RATE_LIMIT_PER_MINUTE": str(limit),
    }
    servers = [start_server(env=env, wait=False) for _ in range(3)]
    for server in servers:
        server.wait_ready()
    bearer = token("squad", sub="shared")

    async def fire() -> list[int]:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}) as client:
            calls = [client.get(servers[i % 3].url + ROUTE, timeout=20) for i in range(30)]
            return [response.status_code for response in await asyncio.gather(*calls)]

    statuses = asyncio.run(fire())
    assert statuses.count(200) == limit
    assert statuses.count(429) == 30 - limit


def test_a_limit_of_zero_turns_rate_limiting_off(
    monkeypatch: pytest.MonkeyPatch,
    api_settings: Settings,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "0")
    api = make_api(load_settings())
    responses = [api.get(ROUTE, token=token("squad")) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "ratelimit-limit" not in responses[0].headers
