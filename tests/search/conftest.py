"""Search fixtures: a small company in a real warehouse, indexed into a Milvus Lite file."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import search_world  # noqa: E402

from sophia_cli.core.search.index import reindex  # noqa: E402
from sophia_cli.core.settings import Settings, load_settings  # noqa: E402
from sophia_cli.store import embedded_milvus  # noqa: E402
from sophia_cli.store.databases import create_database, drop_database  # noqa: E402


@pytest.fixture(scope="module")
def milvus_server() -> Iterator[str]:
    """An embedded Milvus Lite server of the module's own; its URI."""
    home = Path(tempfile.mkdtemp(prefix="sophia-m-"))
    try:
        yield embedded_milvus.ensure_running(home)
    finally:
        embedded_milvus.stop(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def world_urls(
    pg_admin_url: str, warehouse_template: str, milvus_server: str
) -> Iterator[dict[str, str]]:
    """The company's warehouse and its search index, shared by a module's read-only tests."""
    url = create_database(pg_admin_url, prefix="sophia_search_", template=warehouse_template)
    search_world.write(url)
    settings = load_settings(database_url=url, milvus_uri=milvus_server)
    reindex(settings)
    yield {"DATABASE_URL": url, "MILVUS_URI": milvus_server}
    drop_database(pg_admin_url, url)


@pytest.fixture
def world(
    world_urls: dict[str, str], redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings (and the environment, for the CLI) pointing at the indexed company."""
    for name, value in {
        **world_urls,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": redis_prefix,
    }.items():
        monkeypatch.setenv(name, value)
    return load_settings()


@pytest.fixture
def own_world(
    warehouse_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], Settings]:
    """A company of this test's own (to change), indexed on demand in the embedded Milvus of
    the test's SOPHIA_HOME; returns its settings."""
    search_world.write(warehouse_url)
    values = {"DATABASE_URL": warehouse_url, "REDIS_URL": redis_url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    def settings() -> Settings:
        return load_settings()

    return settings
