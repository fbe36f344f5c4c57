"""The index follows the warehouse: deletions leave it, edits re-embed, a new embedder rebuilds."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from search_world import LIVE_IDS, PARENT, PRICE_OBJECTION

from sophia_cli.core.errors import InputError
from sophia_cli.core.search.index import refresh
from sophia_cli.core.search.search import search
from sophia_cli.core.settings import Settings
from sophia_cli.store import milvus, postgres

sys.path.insert(0, str(Path(__file__).parents[1] / "squad"))
from fake_llm import FakeServer  # noqa: E402


def _indexed(settings: Settings) -> set[str]:
    client = milvus.client(settings)
    try:
        rows = client.query(milvus.TEXT_COLLECTION, filter="ts >= 0", output_fields=["id"])
    finally:
        client.close()
    return {str(row["id"]) for row in rows}


def test_records_deleted_in_the_warehouse_leave_the_index(
    own_world: Callable[[], Settings],
) -> None:
    settings = own_world()
    refresh(settings)
    with psycopg.connect(postgres.resolve_url(settings)) as conn:
        conn.execute("UPDATE slack.messages SET deleted = true WHERE ts = %s", (PARENT,))
        conn.execute("UPDATE asana.tasks SET deleted = true WHERE gid = 't1'")
        conn.execute("DELETE FROM gong.transcripts WHERE call_id = 'g2'")
    report = refresh(settings)
    assert {s.source: s.deleted for s in report.sources} == {"slack": 1, "gong": 2, "asana": 1}
    gone = {f"slack:C1:{PARENT}", "asana:t1", "gong:g2:0", "gong:g2:7000"}
    assert _indexed(settings) == LIVE_IDS - gone


def test_only_new_or_changed_units_are_embedded_again(own_world: Callable[[], Settings]) -> None:
    settings = own_world()
    assert sum(s.upserted for s in refresh(settings).sources) == len(LIVE_IDS)
    assert sum(s.upserted for s in refresh(settings).sources) == 0
    with psycopg.connect(postgres.resolve_url(settings)) as conn:
        conn.execute("UPDATE asana.tasks SET notes = 'Tiers go live in August' WHERE gid = 't1'")
    assert {s.source: s.upserted for s in refresh(settings).sources} == {
        "slack": 0, "gong": 0, "asana": 1}  # fmt: skip
    assert "August" in search(settings, "august", mode="bm25").hits[0].snippet


def test_a_refresh_after_no_write_reads_nothing_and_any_write_reconciles(
    own_world: Callable[[], Settings],
) -> None:
    settings = own_world()
    refresh(settings)
    again = refresh(settings).sources
    assert all(s.unchanged for s in again) and sum(s.units for s in again) == len(LIVE_IDS)
    with psycopg.connect(postgres.resolve_url(settings)) as conn:  # a name joined to messages
        conn.execute("UPDATE slack.users SET real_name = 'Dana Leigh' WHERE id = 'U1'")
    after = {s.source: s for s in refresh(settings).sources}
    assert not after["slack"].unchanged and after["slack"].upserted == 1  # Dana's live message
    assert after["gong"].unchanged and after["asana"].unchanged


@pytest.fixture
def squad_embedder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SEARCH_EMBEDDING=squad, served by the fake provider's 8-dimension embeddings."""
    fake = FakeServer().start()
    squads = {"squads": {"litellm": {"primary": True, "deployments": [{
        "name": "embed", "model": "openai/text-embedding-3-small", "api_base": fake.url,
        "api_key_env": "OPENAI_API_KEY", "capabilities": ["embedding"],
        "input_cost_per_mtok": 0.02, "output_cost_per_mtok": 0.0}]}}}  # fmt: skip
    (tmp_path / "squads.yaml").write_text(yaml.safe_dump(squads))
    monkeypatch.setenv("SOPHIA_SQUADS_FILE", str(tmp_path / "squads.yaml"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-fake")
    monkeypatch.setenv("SEARCH_EMBEDDING", "squad")
    yield
    fake.stop()


def test_a_new_embedder_refuses_dense_search_until_the_index_is_rebuilt(
    own_world: Callable[[], Settings], squad_embedder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_EMBEDDING", "wordllama")
    refresh(own_world())
    monkeypatch.setenv("SEARCH_EMBEDDING", "squad")
    settings = own_world()
    with pytest.raises(InputError, match="holds vectors of wordllama") as refused:
        search(settings, "pricing", mode="hybrid")
    assert "sophia db reindex" in refused.value.hint
    assert search(settings, "pricing objection", mode="bm25").hits[0].id == PRICE_OBJECTION


def test_a_sync_with_a_new_embedder_rebuilds_every_source(
    own_world: Callable[[], Settings], squad_embedder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_EMBEDDING", "wordllama")
    refresh(own_world(), ["slack", "gong", "asana"])
    monkeypatch.setenv("SEARCH_EMBEDDING", "squad")
    settings = own_world()
    report = refresh(settings, ["asana"])  # what one source's sync asks for
    assert report.rebuilt and report.embedder == "squad/auto@8"
    assert {s.source for s in report.sources} == {"slack", "gong", "asana"}
    assert _indexed(settings) == LIVE_IDS
    assert search(settings, "pricing objection", mode="hybrid").hits


def test_db_reindex_rebuilds_from_the_warehouse(own_world: Callable[[], Settings], sophia) -> None:  # type: ignore[no-untyped-def]
    own_world()
    result = sophia("db", "reindex", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["rebuilt"] and body["embedder"] == "wordllama/l2_supercat@256"
    assert sum(s["units"] for s in body["sources"]) == len(LIVE_IDS)
