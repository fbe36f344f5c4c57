"""Ask fixtures: one warehouse with the fixture company per module, settings pointing at it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from ask_fake_openai import FakeOpenAI  # noqa: E402
from ask_fixture_data import load  # noqa: E402
from ask_helpers import clone_database, drop_database  # noqa: E402

from sophia_cli.core.bi.execute import jsonable  # noqa: E402
from sophia_cli.core.settings import Settings, load_settings  # noqa: E402
from sophia_cli.store import milvus  # noqa: E402


@pytest.fixture(scope="module")
def company_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    """A migrated warehouse holding the fixture company, shared by a module's read-only tests."""
    url = clone_database(pg_admin_url, warehouse_template)
    load(url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture
def company_env(
    monkeypatch: pytest.MonkeyPatch, company_url: str, redis_url: str, redis_prefix: str
) -> dict[str, str]:
    """Environment pointing at the fixture company, with a Redis prefix of this test's own."""
    values = {"DATABASE_URL": company_url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": redis_prefix}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def settings(company_env: dict[str, str]) -> Settings:
    return load_settings()


@pytest.fixture
def rows_of(company_url: str) -> Any:
    """Run hand-written SQL (UTC session) and return JSON-ready rows, like `ask` does."""

    def run(query: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        with psycopg.connect(company_url) as conn:
            conn.execute("SET TIME ZONE 'UTC'")
            raw = conn.execute(query, params).fetchall()  # type: ignore[arg-type]
        return [[jsonable(cell) for cell in row] for row in raw]

    return run


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.thread.start()
    yield server
    server.shutdown()


@pytest.fixture
def llm_settings(
    company_env: dict[str, str],
    fake_llm: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    squads = {"squads": {"litellm": {"primary": True, "deployments": [{
        "name": "fake", "model": "openai/fake-model", "api_base": fake_llm.url,
        "api_key_env": "OPENAI_API_KEY", "capabilities": ["chat", "json"],
        "input_cost_per_mtok": 1.0, "output_cost_per_mtok": 2.0,
        "max_output_tokens": 4096}]}}}  # fmt: skip
    path = tmp_path / "squads.yaml"
    path.write_text(yaml.safe_dump(squads))
    monkeypatch.setenv("SOPHIA_SQUADS_FILE", str(path))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    return load_settings()


def _ts(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


DOCS = [  # id, source, kind, author, affiliation, time, text
    ("slack:C1:1", "slack", "message", "Dana Lee", "internal", _ts("2026-07-01"),
     "The customer pushed back hard on pricing again, they want a discount for annual plans"),
    ("slack:C1:2", "slack", "message", "Sam Ortiz", "internal", _ts("2026-05-02"),
     "Lunch is at noon today"),
    ("gong:call1:0", "gong", "transcript", "Tom Baker", "external", _ts("2026-06-10"),
     "Our main objection is pricing: the enterprise tier is too expensive for us"),
    ("asana:t1", "asana", "task", "Mia Wong", "internal", _ts("2026-03-03"),
     "Update the pricing page copy"),
    ("gong:call2:0", "gong", "transcript", "Dana Lee", "internal", _ts("2026-06-20"),
     "We talked about onboarding timelines and the security review"),
]  # fmt: skip


@pytest.fixture(scope="module")
def milvus_file() -> Iterator[str]:
    """An embedded Milvus server of the module's own holding DOCS, indexed as sync indexes."""
    import shutil
    import tempfile

    from sophia_cli.core.search.embed import wordllama_embedder
    from sophia_cli.core.search.index import index_units
    from sophia_cli.core.search.units import Unit
    from sophia_cli.store import embedded_milvus

    home = Path(tempfile.mkdtemp(prefix="sophia-m-"))
    try:
        uri = embedded_milvus.ensure_running(home)
        client = milvus.client(load_settings(milvus_uri=uri))
        embedder = wordllama_embedder()
        milvus.ensure_text_collection(client, embedder.signature, embedder.dim)
        for source in ("slack", "gong", "asana"):
            units = [Unit(id=i, kind=k, author=a, author_name=a, affiliation=f, place="",
                          place_name="", ts=t, url=f"https://x.test/{i}", text=x, context="",
                          source=s)
                     for i, s, k, a, f, t, x in DOCS if s == source]  # fmt: skip
            index_units(client, embedder, source, units)
        client.close()
        yield uri
    finally:  # also when indexing fails: no server outlives the module
        embedded_milvus.stop(home)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def search_env(
    milvus_file: str, company_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MILVUS_URI", milvus_file)
