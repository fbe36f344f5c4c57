"""`sophia serve` as a real process on real ports: what a deployment sees."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable

import httpx
from serve_helpers import Server, free_port

from sophia_cli.core.settings import Settings


def _env(stores_env: dict[str, str]) -> dict[str, str]:
    return {**stores_env, "JWT_SECRET": os.environ["JWT_SECRET"]}


def test_serves_health_with_the_served_by_header(
    api_settings: Settings, stores_env: dict[str, str], start_server: Callable[..., Server]
) -> None:
    server = start_server(env=_env(stores_env))
    response = httpx.get(server.url + "/health")
    assert response.status_code == 200
    assert response.headers["x-served-by"].startswith("sophia/")
    assert "server" not in response.headers  # no uvicorn banner


def test_legacy_port_answers_with_deprecation_and_link(
    api_settings: Settings,
    stores_env: dict[str, str],
    start_server: Callable[..., Server],
    token: Callable[..., str],
) -> None:
    legacy = free_port()
    server = start_server("--legacy-port", str(legacy), env=_env(stores_env))
    headers = {"Authorization": f"Bearer {token('squad', sub='bridge')}"}
    old = httpx.get(f"http://127.0.0.1:{legacy}/v1/squad/budget", headers=headers)
    new = httpx.get(server.url + "/v1/squad/budget", headers=headers)
    assert old.status_code == new.status_code == 200
    assert old.json()["budget_usd"] == new.json()["budget_usd"]
    assert old.headers["deprecation"] == "true"
    assert old.headers["link"] == (
        f'<http://127.0.0.1:{server.port}/v1/squad/budget>; rel="successor-version"'
    )
    assert "deprecation" not in new.headers
    metrics = httpx.get(server.url + "/metrics").text
    assert 'sophia_legacy_requests_total{caller="bridge",route="/v1/squad/budget"} 1.0' in metrics


def test_auth_failures_over_the_wire_are_401_and_the_worker_survives(
    api_settings: Settings, stores_env: dict[str, str], start_server: Callable[..., Server]
) -> None:
    server = start_server(env=_env(stores_env))
    for bad in ["x", "a.b.c", "e30.e30.", "A" * 9000]:
        response = httpx.get(
            server.url + "/v1/squad/budget", headers={"Authorization": f"Bearer {bad}"}
        )
        assert response.status_code == 401
    assert httpx.get(server.url + "/health").status_code == 200
    assert server.process.poll() is None


def test_gzip_is_negotiated_over_the_wire(
    api_settings: Settings, stores_env: dict[str, str], start_server: Callable[..., Server]
) -> None:
    server = start_server(env=_env(stores_env))
    with httpx.stream(
        "GET", server.url + "/openapi.json", headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
    plain = httpx.get(server.url + "/openapi.json", headers={"Accept-Encoding": "identity"})
    assert len(raw) < len(plain.content) / 2


def test_two_workers_merge_their_metrics(
    api_settings: Settings, stores_env: dict[str, str], start_server: Callable[..., Server]
) -> None:
    server = start_server("--workers", "2", env=_env(stores_env))
    for _ in range(20):  # a new connection each time, so both workers take some
        httpx.get(server.url + "/health")
    text = httpx.get(server.url + "/metrics").text
    line = next(
        row
        for row in text.splitlines()
        if row.startswith("sophia_http_requests_total") and 'route="/health"' in row
    )
    assert float(line.rsplit(" ", 1)[1]) >= 20.0


def test_sigterm_shuts_down_cleanly_and_the_access_log_has_no_secrets(
    api_settings: Settings,
    stores_env: dict[str, str],
    start_server: Callable[..., Server],
    token: Callable[..., str],
) -> None:
    server = start_server(env=_env(stores_env))
    bearer = token("squad")
    httpx.get(
        server.url + "/v1/squad/budget?secret=hunter2",
        headers={"Authorization": f"Bearer {bearer}"},
    )
    server.process.send_signal(signal.SIGTERM)
    # uvicorn re-raises the captured SIGTERM after a clean shutdown, so -15 is a clean exit.
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
    log = server.log.read_text()
    assert "Application shutdown complete" in log
    access = [json.loads(line) for line in log.splitlines() if line.startswith('{"event"')]
    assert any(entry["route"] == "/v1/squad/budget" and entry["status"] == 200 for entry in access)
    assert bearer not in log and "hunter2" not in log and os.environ["JWT_SECRET"] not in log


def test_doctor_recognises_the_running_server(
    api_settings: Settings,
    stores_env: dict[str, str],
    start_server: Callable[..., Server],
    sophia,  # type: ignore[no-untyped-def]
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    server = start_server(env=_env(stores_env))
    monkeypatch.setenv("SOPHIA_PORT", str(server.port))
    result = sophia("doctor", "--category", "ports", "--json")
    api_port = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "api-port")
    assert api_port["status"] == "ok" and "held by sophia serve" in api_port["detail"]


def test_a_port_in_use_is_one_clear_error(
    api_settings: Settings,
    sophia,  # type: ignore[no-untyped-def]
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = sophia("serve", "--port", str(busy.getsockname()[1]))
    assert result.exit_code == 1
    assert "cannot listen on 127.0.0.1" in result.stderr
