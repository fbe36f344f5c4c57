"""Search fixtures: a small company in a real warehouse, indexed into a Milvus Lite file."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import search_world  # noqa: E402

from sophia_cli.core.search.index import refresh  # noqa: E402
from sophia_cli.core.settings import Settings, load_settings  # noqa: E402
from sophia_cli.store.databases import create_database, drop_database  # noqa: E402


@pytest.fixture(scope="module")
def world_urls(
    pg_admin_url: str, warehouse_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The company's warehouse and its search index, shared by a module's read-only tests."""
    url = create_database(pg_admin_url, prefix="sophia_search_", template=warehouse_template)
    search_world.write(url)
    milvus_file = str(tmp_path_factory.mktemp("milvus") / "search.db")
    refresh(load_settings(database_url=url, milvus_uri=milvus_file))
    yield {"DATABASE_URL": url, "MILVUS_URI": milvus_file}
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
    warehouse_url: str, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], Settings]:
    """A company of this test's own (to change), indexed on demand; returns its settings."""
    search_world.write(warehouse_url)
    values = {"DATABASE_URL": warehouse_url, "MILVUS_URI": str(tmp_path / "own.db"),
              "REDIS_URL": redis_url}  # fmt: skip
    for name, value in values.items():
        monkeypatch.setenv(name, value)

    def settings() -> Settings:
        return load_settings()

    return settings
