"""Squad fixtures: a fake OpenAI-compatible server, squads files pointing at it, settings."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from fake_llm import FakeServer  # noqa: E402
from squad_helpers import deployments  # noqa: E402

from sophia_cli.core.settings import Settings, load_settings  # noqa: E402
from sophia_cli.store import pooled  # noqa: E402


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    """The fake LLM server with an empty script and zeroed counters."""
    with fake_server.state.lock:
        fake_server.state.steps.clear()
        fake_server.state.defaults.clear()
        fake_server.state.calls.clear()
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
