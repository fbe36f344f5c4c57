"""Fixtures for the API: a secret, settings over the test stores, an in-process client,
and `sophia serve` started as a real process on a free port."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_helpers import SECRET, Api, Server, free_port

from sophia_cli.core.auth.tokens import Scope, issue_token
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.store import embedded_milvus
from sophia_cli.store.databases import create_database, drop_database


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    return SECRET


@pytest.fixture(scope="module")
def module_warehouse_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    """One migrated database per test module: creating one per test dominates the run time.

    Isolation between tests comes from the per-test Redis prefix; tests that need an
    empty or broken database set DATABASE_URL themselves.
    """
    url = create_database(pg_admin_url, prefix="sophia_serve_", template=warehouse_template)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def stores_env(
    monkeypatch: pytest.MonkeyPatch, module_warehouse_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    """Like the root fixture, but the database is the module's (see module_warehouse_url)."""
    values = {
        "DATABASE_URL": module_warehouse_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def api_settings(secret: str, stores_env: dict[str, str]) -> Settings:
    """Settings with a JWT secret, the module's database and this test's Redis prefix."""
    return load_settings()


@pytest.fixture
def token(api_settings: Settings) -> Callable[..., str]:
    """`token("ask", "sync", sub=..., ttl=...)` signs a token the server accepts."""

    def make(*scopes: str, sub: str = "tester", ttl: int = 300) -> str:
        return issue_token(api_settings, sub, [Scope(s) for s in scopes], ttl)

    return make


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    """Build in-process clients for apps of a test's own; closed at the end."""
    made: list[Api] = []

    def make(settings: Settings, base_url: str = "http://testserver", **app_kw: Any) -> Api:
        from sophia_cli.server.app import create_app

        api = Api(create_app(settings, **app_kw), base_url)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


@pytest.fixture
def api(api_settings: Settings, make_api: Callable[..., Api]) -> Api:
    return make_api(api_settings)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`start_server("--legacy-port", "N", env={...})` runs serve as a real process."""
    servers: list[Server] = []
    homes: set[Path] = set()

    def start(
        *args: str, env: dict[str, str] | None = None, wait: bool = True, cwd: Path | None = None
    ) -> Server:
        port = free_port()
        environ = {**os.environ, **(env or {})}
        if environ.get("SOPHIA_HOME"):
            homes.add(Path(environ["SOPHIA_HOME"]))
        server = Server(list(args), environ, port, tmp_path / f"serve-{port}.log", cwd)
        servers.append(server)
        if wait:
            server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()
    for home in homes:  # serve starts the home's shared vector store; it outlives serve
        embedded_milvus.stop(home)
