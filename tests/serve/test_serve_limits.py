"""What one caller can take from a worker: body size, concurrent work, metric series."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from serve_helpers import Api, Server, free_port

from sophia_cli.cli.serve import _bind
from sophia_cli.core.settings import Settings, load_settings

ENDLESS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


@pytest.fixture
def small_limits(
    secret: str, stores_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("SOPHIA_MAX_BODY_BYTES", "2000")
    monkeypatch.setenv("SOPHIA_TOKEN_CONCURRENCY", "1")
    monkeypatch.setenv("ASK_STATEMENT_TIMEOUT_MS", "1500")
    return load_settings()


def test_a_body_over_the_limit_is_413_by_its_declared_length(
    small_limits: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    api = make_api(small_limits)
    response = api.post("/v1/query", json={"sql": "SELECT 1 " + " " * 3000}, token=token("query"))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_chunked_body_over_the_limit_is_413_while_it_is_read(
    small_limits: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    api = make_api(small_limits)

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b" " * 500

    response = api.post(
        "/v1/query",
        content=chunks(),
        headers={"content-type": "application/json"},
        token=token("query"),
    )
    assert response.status_code == 413


def test_a_body_within_the_limit_is_served(
    small_limits: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    api = make_api(small_limits)
    response = api.post(
        "/v1/query", json={"sql": "SELECT count(*) FROM hubspot.deals"}, token=token("query")
    )
    assert response.status_code == 200, response.text


def test_one_token_cannot_hold_more_than_its_share_of_a_worker(
    small_limits: Settings, make_api: Callable[..., Api], token: Callable[..., str]
) -> None:
    api = make_api(small_limits)
    busy, other = token("query", sub="busy"), token("query", "squad", sub="other")

    async def scenario() -> tuple[httpx.Response, list[httpx.Response], httpx.Response]:
        slow = asyncio.create_task(
            api.client.post(
                "/v1/query", json={"sql": ENDLESS}, headers={"Authorization": f"Bearer {busy}"}
            )
        )
        concurrency = api.app.state.sophia.concurrency
        while concurrency.active("busy") == 0 and not slow.done():
            await asyncio.sleep(0.01)  # until the slow request holds its slot
        refused: list[httpx.Response] = []
        meanwhile = None
        while not slow.done():
            second = await api.client.post(
                "/v1/query",
                json={"sql": "SELECT 1"},
                headers={"Authorization": f"Bearer {busy}"},
            )
            if second.status_code == 429:
                refused.append(second)
                meanwhile = await api.client.get(
                    "/v1/squad/budget", headers={"Authorization": f"Bearer {other}"}
                )
                break
            await asyncio.sleep(0.05)
        first = await slow
        assert meanwhile is not None, first.text
        return first, refused, meanwhile

    first, refused, meanwhile = api.run(scenario())
    assert first.status_code == 422  # the endless query hit its statement timeout
    assert refused[0].headers["retry-after"] == "1"
    assert refused[0].json()["error"]["code"] == "rate_limited"
    assert meanwhile.status_code == 200
    after = api.post("/v1/query", json={"sql": "SELECT 1"}, token=busy)
    assert after.status_code == 200


def test_unknown_methods_share_one_metric_label(api: Api) -> None:
    for index in range(50):
        api.request(f"X{index:03d}", "/health")
    text = api.get("/metrics").text
    assert 'method="other"' in text
    assert "X00" not in text


def test_head_health_answers_like_get(api: Api) -> None:
    response = api.request("HEAD", "/health")
    assert response.status_code == 200


def test_listening_sockets_hand_tcp_nodelay_to_every_connection() -> None:
    listener = _bind("127.0.0.1", free_port())
    try:
        listener.listen()
        assert listener.proto == socket.IPPROTO_TCP
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        listener.close()


def test_the_legacy_link_reflects_neither_host_header_nor_query(
    api_settings: Settings, stores_env: dict[str, str], start_server: Callable[..., Server]
) -> None:
    legacy = free_port()
    server = start_server("--legacy-port", str(legacy), env={**stores_env, "JWT_SECRET": "x"})
    response = httpx.get(
        f"http://127.0.0.1:{legacy}/health?next=%0d%0aSet-Cookie:x",
        headers={"Host": "evil.example"},
    )
    assert response.headers["link"] == (
        f'<http://127.0.0.1:{server.port}/health>; rel="successor-version"'
    )


def test_concurrent_queries_share_a_bounded_pool_of_connections(
    secret: str,
    stores_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    import psycopg

    monkeypatch.setenv("DATABASE_POOL_MAX", "2")
    monkeypatch.setenv("SOPHIA_TOKEN_CONCURRENCY", "0")
    api = make_api(load_settings())
    bearer = {"Authorization": f"Bearer {token('query')}"}
    slow = (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 100000)"
        " SELECT count(*) AS n FROM r"
    )
    url = stores_env["DATABASE_URL"]
    seen: list[int] = []

    def sample(stop: threading.Event) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND application_name = 'sophia' AND pid <> pg_backend_pid()"
                ).fetchone()
                seen.append(int(row[0]) if row else 0)
                time.sleep(0.02)

    async def scenario() -> list[int]:
        stop = asyncio.Event()
        sampler = asyncio.create_task(asyncio.to_thread(sample, stop))
        calls = [
            api.client.post("/v1/query", json={"sql": slow}, headers=bearer) for _ in range(12)
        ]
        responses = await asyncio.gather(*calls)
        stop.set()
        await sampler
        return [response.status_code for response in responses]

    assert api.run(scenario()) == [200] * 12
    assert 1 <= max(seen) <= 2, seen  # busy, and never more than the pool
