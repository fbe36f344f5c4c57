"""A real `sophia serve` in front of the fake provider, for the OpenAI-compatibility tests.

One gateway per test module (starting serve imports LiteLLM, which takes seconds): its own
database, its own Redis key prefix, its own squads file. Tests script the provider per model
and use prompts of their own, so they do not see each other's cache entries.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml
from fake_llm import FakeServer

sys.path.insert(0, str(Path(__file__).parent.parent / "serve"))

from serve_helpers import SECRET, Server, free_port  # noqa: E402

from sophia_cli.core.auth.tokens import Scope, issue_token  # noqa: E402
from sophia_cli.core.setting_specs import deprecated_names, setting_specs  # noqa: E402
from sophia_cli.core.settings import Settings  # noqa: E402
from sophia_cli.store import embedded_milvus  # noqa: E402


def provider_deployments(fake: FakeServer) -> dict[str, Any]:
    """Squads served by the fake: config-priced tiers, one map-priced model, one embedder."""

    def dep(name: str, caps: list[str], price_in: float, price_out: float) -> dict[str, Any]:
        fake.price(name, price_in, price_out)
        return {
            "name": name,
            "model": f"openai/{name}",
            "api_base": fake.url,
            "api_key_env": "OPENAI_API_KEY",
            "capabilities": caps,
            "input_cost_per_mtok": price_in,
            "output_cost_per_mtok": price_out,
            "max_output_tokens": 4096,
        }

    mini = {  # priced from LiteLLM's map, like a real deployment
        "name": "mini",
        "model": "openai/gpt-4o-mini",
        "api_base": fake.url,
        "api_key_env": "OPENAI_API_KEY",
        "capabilities": ["chat", "json", "tools", "vision"],
    }
    fake.price("gpt-4o-mini", 0.15, 0.60, 0.075)
    embed = {
        "name": "embed",
        "model": "openai/text-embedding-3-small",
        "api_base": fake.url,
        "api_key_env": "OPENAI_API_KEY",
        "capabilities": ["embedding"],
    }
    fake.price("text-embedding-3-small", 0.02, 0.0)
    return {
        "router": {"timeout_s": 5, "deadline_s": 20, "backoff_s": 0.05},
        "squads": {
            "litellm": {
                "primary": True,
                "deployments": [
                    dep("cheap", ["chat"], 1.0, 2.0),
                    mini,
                    dep("big", ["chat", "code", "json", "tools", "vision", "reasoning"], 10, 30),
                    embed,
                ],
            },
            "aimlapi": {"deployments": [dep("bargain", ["chat"], 0.1, 0.2)]},
        },
    }


def clean_environ() -> dict[str, str]:
    """The process environment without any sophia setting a developer may have exported."""
    names = {spec.env_name for spec in setting_specs()} | set(deprecated_names())
    return {k: v for k, v in os.environ.items() if k not in names}


@dataclass
class Gateway:
    """`sophia serve` on a free port, the provider behind it, and where it keeps its books."""

    server: Server
    provider: FakeServer
    database_url: str
    prefix: str
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return self.server.url + "/v1"

    def token(self, sub: str = "tester", scopes: tuple[str, ...] = ("squad",)) -> str:
        settings = Settings(jwt_secret=SECRET)  # type: ignore[call-arg]
        return issue_token(settings, sub, [Scope(s) for s in scopes], 600)

    def rows(self, where: str = "true", *params: Any) -> list[dict[str, Any]]:
        """Spend-log rows as dicts, oldest first."""
        with psycopg.connect(self.database_url) as conn:
            cursor = conn.execute(
                f"SELECT * FROM sophia.llm_calls WHERE {where} ORDER BY id", params
            )
            names = [c.name for c in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@contextmanager
def running_gateway(
    database_url: str,
    redis_url: str,
    home: Path,
    provider: FakeServer,
    squads: dict[str, Any],
    **env: str,
) -> Iterator[Gateway]:
    path = home / f"squads-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(squads, sort_keys=False))
    prefix = f"sophia-gw-{uuid.uuid4().hex[:8]}:"
    environ = {
        **clean_environ(),
        "SOPHIA_HOME": str(home),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "JWT_SECRET": SECRET,
        "OPENAI_API_KEY": "sk-provider-key",
        "SOPHIA_SQUADS_FILE": str(path),
        "RATE_LIMIT_PER_MINUTE": "1000000",
        # One test token stands for many callers here; the per-token cap has tests of its own.
        "SOPHIA_TOKEN_CONCURRENCY": "0",
        **env,
    }
    port = free_port()
    server = Server([], environ, port, home / f"serve-{port}.log")
    try:
        server.wait_ready(timeout_s=90)
        yield Gateway(server, provider, database_url, prefix, environ)
    finally:
        server.stop()
        embedded_milvus.stop(home)  # the server started the shared one for /ready
