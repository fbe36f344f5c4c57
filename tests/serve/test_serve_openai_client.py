"""The official `openai` client, pointed at `sophia serve`, completes a chat via the squad."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest
import yaml
from serve_helpers import Server

from sophia_cli.core.settings import Settings

sys.path.insert(0, str(Path(__file__).parent.parent / "squad"))

from fake_llm import FakeServer  # noqa: E402


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def server(
    api_settings: Settings,
    stores_env: dict[str, str],
    provider: FakeServer,
    tmp_path: Path,
    start_server: Callable[..., Server],
) -> Server:
    squads = {
        "squads": {
            "litellm": {
                "primary": True,
                "deployments": [
                    {
                        "name": "cheap",
                        "model": "openai/cheap",
                        "api_base": provider.url,
                        "api_key_env": "OPENAI_API_KEY",
                        "input_cost_per_mtok": 1.0,
                        "output_cost_per_mtok": 2.0,
                        "max_output_tokens": 4096,
                    }
                ],
            }
        }
    }
    path = tmp_path / "squads.yaml"
    path.write_text(yaml.safe_dump(squads))
    env = {
        **stores_env,
        "JWT_SECRET": os.environ["JWT_SECRET"],
        "SOPHIA_SQUADS_FILE": str(path),
        "OPENAI_API_KEY": "sk-provider-key",
    }
    return start_server(env=env)


def test_openai_client_completes_a_chat_through_sophia(
    server: Server, provider: FakeServer, token: Callable[..., str]
) -> None:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=token("squad"), max_retries=0)
    reply = client.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "Say hello"}], max_tokens=50
    )
    assert reply.choices[0].message.content == "answer from cheap"
    assert reply.usage is not None and reply.usage.total_tokens == 15
    assert reply.model == "cheap"  # as the provider reports it
    assert provider.calls("cheap") >= 1


def test_openai_client_sees_auth_errors_as_its_own_exceptions(
    server: Server, token: Callable[..., str]
) -> None:
    wrong_scope = openai.OpenAI(base_url=server.url + "/v1", api_key=token("ask"), max_retries=0)
    with pytest.raises(openai.PermissionDeniedError, match="squad"):
        wrong_scope.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "x"}]
        )
    forged = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-not-a-jwt", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        forged.chat.completions.create(model="auto", messages=[{"role": "user", "content": "x"}])


def test_sigterm_lets_an_in_flight_request_finish(
    server: Server, provider: FakeServer, token: Callable[..., str]
) -> None:
    import signal
    import threading
    import time

    import httpx

    provider.script("cheap", {"delay_s": 2.0, "text": "slow answer"})
    outcome: dict[str, httpx.Response] = {}

    def call() -> None:
        outcome["response"] = httpx.post(
            server.url + "/v1/chat/completions",
            timeout=30,
            headers={"Authorization": f"Bearer {token('squad')}"},
            json={
                "model": "auto",
                "use_cache": False,
                "messages": [{"role": "user", "content": "take your time"}],
            },
        )

    earlier = provider.calls("cheap")  # the provider serves the whole module
    caller = threading.Thread(target=call)
    caller.start()
    # SIGTERM once the request is waiting on the provider; a fixed second assumed it had got
    # there, and on a busy machine it might not even have reached the server.
    deadline = time.monotonic() + 30
    while provider.calls("cheap") == earlier:
        assert time.monotonic() < deadline, server.log.read_text()[-3000:]
        assert caller.is_alive(), outcome
        time.sleep(0.02)
    server.process.send_signal(signal.SIGTERM)
    caller.join(timeout=30)
    assert "response" in outcome, server.log.read_text()[-3000:]
    assert outcome["response"].status_code == 200
    assert outcome["response"].json()["choices"][0]["message"]["content"] == "slow answer"
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
