"""Squad fixtures: a fake OpenAI-compatible server, squads files pointing at it, settings."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from fake_llm import FakeServer  # noqa: E402
from gateway_helpers import Gateway, provider_deployments, running_gateway  # noqa: E402
from squad_helpers import deployments  # noqa: E402

from sophia_cli.core.settings import Settings, load_settings  # noqa: E402
from sophia_cli.store import pooled  # noqa: E402
from sophia_cli.store.databases import create_database, drop_database  # noqa: E402


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    """The fake LLM server with an empty script and zeroed counters.

    A generation a previous test abandoned (a client timeout) would otherwise bill into this
    test's ledger when it finishes."""
    fake_server.wait_idle()
    fake_server.state.reset()
    return fake_server


@pytest.fixture
def write_squads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[dict[str, Any]], Path]:
    """Write a squads file and point SOPHIA_SQUADS_FILE at it."""
    counter = iter(range(1000))

    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / f"squads-{next(counter)}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        monkeypatch.setenv("SOPHIA_SQUADS_FILE", str(path))
        return path

    return write


@pytest.fixture
def squad_env(
    stores_env: dict[str, str],
    fake: FakeServer,
    write_squads: Callable[[dict[str, Any]], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """Stores, an OpenAI key and a squads file with the three fake tiers."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    path = write_squads(
        {"squads": {"litellm": {"primary": True, "deployments": deployments(fake)}}}
    )
    yield {**stores_env, "OPENAI_API_KEY": "sk-test-fake", "SOPHIA_SQUADS_FILE": str(path)}
    pooled.close_all()


@pytest.fixture
def settings(squad_env: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def gateway_server(pg_admin_url: str, warehouse_template: str, redis_url: str) -> Iterator[Gateway]:
    """`sophia serve` (a real process) in front of a fake provider, for one test module."""
    provider = FakeServer().start()
    url = create_database(pg_admin_url, prefix="sophia_gw_", template=warehouse_template)
    home = Path(tempfile.mkdtemp(prefix="sophia-gw-"))
    try:
        squads = provider_deployments(provider)
        with running_gateway(url, redis_url, home, provider, squads) as gateway:
            yield gateway
    finally:
        provider.stop()
        drop_database(pg_admin_url, url)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def gateway(gateway_server: Gateway) -> Gateway:
    """The module's gateway with the provider's scripts, counters and cooldowns cleared."""
    import redis

    gateway_server.provider.state.reset()
    client = redis.Redis.from_url(gateway_server.env["REDIS_URL"])
    for kind in ("cooldown", "fails"):
        for key in client.scan_iter(f"{gateway_server.prefix}squad:{kind}:*"):
            client.delete(key)
    client.close()
    return gateway_server
