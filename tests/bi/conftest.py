"""Fixtures for the BI page's routes: the ask fixtures' company in a warehouse of the
module's own, settings with a JWT secret, tokens, and in-process clients of the real app."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).parent.parent
sys.path.insert(0, str(TESTS / "serve"))
sys.path.insert(0, str(TESTS / "ask"))
sys.path.insert(0, str(TESTS / "sync"))

from ask_fixture_data import load  # noqa: E402
from serve_helpers import SECRET, Api  # noqa: E402

from sophia_cli.core.auth.tokens import Scope, issue_token  # noqa: E402
from sophia_cli.core.settings import Settings, load_settings  # noqa: E402
from sophia_cli.store.databases import create_database, drop_database  # noqa: E402


@pytest.fixture(scope="module")
def company_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    """One migrated warehouse per module holding the fixture company (tests that write pin
    as subjects of their own, or take a database of their own)."""
    url = create_database(pg_admin_url, prefix="sophia_bi_", template=warehouse_template)
    load(url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def bi_env(
    monkeypatch: pytest.MonkeyPatch, company_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    """The environment of a server over the module's company, with a Redis prefix of its own."""
    values = {
        "DATABASE_URL": company_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
        "JWT_SECRET": SECRET,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def bi_settings(bi_env: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture
def token(bi_settings: Settings) -> Callable[..., str]:
    """`token("ask", sub="dana")` signs a token the server accepts."""

    def make(*scopes: str, sub: str = "tester", ttl: int = 300) -> str:
        return issue_token(bi_settings, sub, [Scope(s) for s in scopes], ttl)

    return make


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    """In-process clients (httpx over ASGI) of apps of a test's own; closed at the end."""
    made: list[Api] = []

    def make(settings: Settings, **app_kw: Any) -> Api:
        from sophia_cli.server.app import create_app

        api = Api(create_app(settings, **app_kw))
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


@pytest.fixture
def api(bi_settings: Settings, make_api: Callable[..., Api]) -> Api:
    return make_api(bi_settings)
