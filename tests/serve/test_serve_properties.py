"""Property-based: schemathesis drives every operation of our own OpenAPI; no 500s."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serve_helpers import Server

from sophia_cli.core.settings import Settings

sys.path.insert(0, str(Path(__file__).parent.parent / "squad"))

from fake_llm import FakeServer  # noqa: E402

EXAMPLES_PER_OPERATION = 4


@pytest.fixture
def server(
    api_settings: Settings,
    stores_env: dict[str, str],
    tmp_path: Path,
    start_server: Callable[..., Server],
) -> Any:
    provider = FakeServer().start()
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
                        "capabilities": ["chat", "tools"],
                        "input_cost_per_mtok": 1.0,
                        "output_cost_per_mtok": 2.0,
                        "max_output_tokens": 4096,
                    }
                ],
            }
        }
    }
    (tmp_path / "squads.yaml").write_text(yaml.safe_dump(squads))
    env = {
        **stores_env,
        "JWT_SECRET": os.environ["JWT_SECRET"],
        "OPENAI_API_KEY": "sk-fake",
        "SOPHIA_SQUADS_FILE": str(tmp_path / "squads.yaml"),
        "RATE_LIMIT_PER_MINUTE": "100000",
    }
    yield start_server(env=env)
    provider.stop()


def test_no_operation_answers_500_to_generated_requests(
    server: Server, token: Callable[..., str]
) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    headers = {"Authorization": f"Bearer {token('admin')}"}
    failures: list[str] = []
    exercised: set[str] = set()
    strategy = st.one_of(*[operation.as_strategy() for operation in operations])

    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=strategy)
    def call(case: schemathesis.Case) -> None:
        response = case.call(base_url=server.url, headers=headers, timeout=30)
        exercised.add(f"{case.method} {case.operation.path}")
        if response.status_code >= 500 and response.status_code != 503:
            failures.append(
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:200]}"
            )
        content_type = (response.headers.get("content-type") or [""])[0]
        if response.status_code >= 400 and content_type.startswith("application/json"):
            error = response.json().get("error")
            if not isinstance(error, dict) or not {"code", "message", "hint"} <= set(error):
                failures.append(f"{case.method} {case.formatted_path}: not the error shape")

    call()
    assert not failures, "\n".join(failures)
    assert len(exercised) >= len(operations) * 3 // 4, sorted(exercised)
