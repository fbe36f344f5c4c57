"""Odd input is a 4xx with one line, never a 500 or a traceback (issue 13, point 9)."""

from __future__ import annotations

import json
import logging
import signal
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from serve_helpers import SECRET, Api, Server

from sophia_cli.core.auth.tokens import Scope, issue_token, key_id
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.store.jobs import load_job


@pytest.fixture
def admin(token: Callable[..., str]) -> str:
    return token("admin")


def one_line_error(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert "\n" not in error["message"] and len(error["message"]) < 300
    return error


@pytest.mark.parametrize(
    ("question", "as_of"),
    [("revenue next year", "9999-12-31"), ("revenue last quarter", "0001-01-01")],
)
def test_an_as_of_at_the_end_of_the_calendar_is_422(
    api: Api, admin: str, question: str, as_of: str
) -> None:
    response = api.post("/v1/ask", json={"question": question, "as_of": as_of}, token=admin)
    assert response.status_code == 422
    assert "as_of" in one_line_error(response)["message"]


@pytest.mark.parametrize(
    "question", ["top 1000000000000000000 owners by revenue", "top 10^18 owners"]
)
def test_an_absurd_top_n_is_422(api: Api, admin: str, question: str) -> None:
    response = api.post("/v1/ask", json={"question": question}, token=admin)
    assert response.status_code == 422, response.text
    one_line_error(response)


@pytest.mark.parametrize(
    "sql",
    ["SELECT " + "(" * 20000 + "1" + ")" * 20000, "SELECT " + " + ".join(["1"] * 30000)],
    ids=["parentheses", "operators"],
)
def test_deeply_nested_sql_is_422_without_a_traceback_in_the_log(
    api: Api, admin: str, caplog: pytest.LogCaptureFixture, sql: str
) -> None:
    with caplog.at_level(logging.INFO, logger="sophia"):
        response = api.post("/v1/query", json={"sql": sql}, token=admin)
    assert response.status_code == 422
    one_line_error(response)
    assert not any(record.exc_info for record in caplog.records)


def test_an_oversized_lpad_is_422(api: Api, admin: str) -> None:
    response = api.post("/v1/query", json={"sql": "SELECT lpad('x', 2147483647)"}, token=admin)
    assert response.status_code == 422
    assert "more than the database allows" in one_line_error(response)["message"]


def test_chat_without_any_model_key_says_so_in_one_line(api: Api, admin: str) -> None:
    response = api.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}, token=admin
    )
    # Not the caller's fault and not a crash: the server is not configured for chat.
    assert response.status_code == 503
    assert "OPENAI_API_KEY" in one_line_error(response)["message"]


def test_an_unknown_sync_source_is_422_before_any_job_starts(api: Api, admin: str) -> None:
    response = api.post("/v1/sync", json={"sources": ["slack", "nope"]}, token=admin)
    assert response.status_code == 422
    error = one_line_error(response)
    assert "nope" in error["message"] and "slack" in error["hint"]


def test_tokens_longer_lived_than_the_maximum_are_neither_issued_nor_accepted(
    api: Api, api_settings: Settings
) -> None:
    import jwt

    with pytest.raises(Exception, match="maximum token lifetime"):
        issue_token(api_settings, "x", [Scope.ADMIN], 10**9)
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "x", "scope": "admin", "iat": now, "exp": now + 10**10},
        SECRET,
        algorithm="HS256",
        headers={"kid": key_id(SECRET)},
    )
    response = api.get("/v1/squad/budget", token=forged)
    assert response.status_code == 401
    assert "maximum token lifetime" in one_line_error(response)["message"]


@pytest.mark.parametrize("length", [9000, 200_000])
def test_token_verify_answers_a_very_long_token_in_one_line(
    sophia: Callable[..., Any], secret: str, length: int
) -> None:
    result = sophia("token", "verify", "e" * length)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[0] == "error: bearer token is too long"
    assert "Traceback" not in result.stderr


def test_token_verify_refuses_a_token_that_expires_after_year_9999(
    sophia: Callable[..., Any], secret: str
) -> None:
    import jwt

    forged = jwt.encode(
        {"sub": "x", "scope": "ask", "exp": 10**12}, SECRET, headers={"kid": key_id(SECRET)}
    )
    result = sophia("token", "verify", forged)
    assert result.exit_code == 1
    assert "maximum token lifetime" in result.stderr


@pytest.fixture
def silent_api() -> Iterator[str]:
    """An HTTP server that accepts connections and never answers (a hung upstream)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


def test_sigterm_during_a_background_sync_marks_its_job_interrupted(
    api_settings: Settings,
    stores_env: dict[str, str],
    silent_api: str,
    start_server: Callable[..., Server],
    token: Callable[..., str],
) -> None:
    env = {
        **stores_env,
        "JWT_SECRET": SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_API_BASE": silent_api,
        "SYNC_HTTP_TIMEOUT_S": "120",
        "SYNC_TEXT_INDEX": "false",
    }
    server = start_server(env=env)
    headers = {"Authorization": f"Bearer {token('sync')}"}
    started = httpx.post(server.url + "/v1/sync", json={"sources": ["slack"]}, headers=headers)
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    time.sleep(1.0)  # the sync is now waiting on the silent API
    server.process.send_signal(signal.SIGTERM)
    # uvicorn re-raises the captured SIGTERM after a clean shutdown, so -15 is a clean exit.
    assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    record = load_job(load_settings(), "sync", run_id)
    assert record is not None, server.log.read_text()[-2000:]
    assert record["state"] == "interrupted", json.dumps(record)
    assert record["finished_at"] is not None


def test_several_workers_share_one_embedded_milvus(
    api_settings: Settings,
    stores_env: dict[str, str],
    start_server: Callable[..., Server],
    token: Callable[..., str],
) -> None:
    server = start_server("--workers", "2", env={**stores_env, "JWT_SECRET": SECRET})
    headers = {"Authorization": f"Bearer {token('ask')}"}
    ready = [httpx.get(server.url + "/ready", timeout=30).status_code for _ in range(8)]
    found = [
        httpx.get(server.url + "/v1/search", params={"q": "pricing"}, headers=headers, timeout=30)
        for _ in range(8)
    ]
    assert ready == [200] * 8
    assert [response.status_code for response in found] == [200] * 8, found[-1].text
    assert "Milvus Lite (shared, embedded) at" in server.log.read_text()
