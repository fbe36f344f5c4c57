"""The blind relevance set runs against the demo company and reports recall@10 and nDCG@10.

The set (queries.yaml) was written from the demo data by someone who had not read the search
code; relevance.py drives `sophia search --json` as a black box. These tests check that the
measurement runs and reports, and that the set still fits the data. How good the figures are is
the search's business, except the one bar issue 19 set: hybrid beats BM25 (asserted since it
does, by a wide margin: 0.883 vs 0.725 nDCG@10 on this set, and out of sample as well).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import relevance  # noqa: E402

from sophia_cli.core.setting_specs import setting_specs  # noqa: E402
from sophia_cli.store.databases import create_database, drop_database  # noqa: E402

# Syncing and indexing the full demo takes one to four minutes on a busy 2-core machine; the
# suite's 300 s per test would count it against whichever test first needs it.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def demo(
    pg_admin_url: str,
    warehouse_template: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    """A warehouse and text index filled by the real demo (sandbox over HTTP, then sync),
    anchored on the day the set was written from."""
    url = create_database(pg_admin_url, template=warehouse_template)
    env = {
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": "sophia-test-blindsearch:",
        "SOPHIA_HOME": str(tmp_path_factory.mktemp("blind-demo-home")),
    }
    dataset = relevance.load_dataset(relevance.DEFAULT_FILE)
    relevance.sync_demo(dataset, url, redis_url, Path(env["SOPHIA_HOME"]))
    yield env
    _stop_embedded_servers(env)
    drop_database(pg_admin_url, url)


def _stop_embedded_servers(env: dict[str, str]) -> None:
    """`sophia db stop` in the demo's home: its Milvus Lite server outlives this process."""
    import contextlib
    import io

    from sophia_cli.cli.main import run

    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(io.StringIO()):
        for name, value in env.items():
            mp.setenv(name, value)
        run(["db", "stop"])


@pytest.fixture(scope="module")
def report(demo: dict[str, str]) -> Iterator[dict[str, Any]]:
    """relevance.py's JSON report over the committed set, every mode the search offers."""
    from sophia_cli.store import pooled

    with pytest.MonkeyPatch.context() as mp:
        for spec in setting_specs():
            mp.delenv(spec.env_name, raising=False)
        for name, value in demo.items():
            mp.setenv(name, value)
        out = _captured_main(["--in-process", "--json", "--database-url", demo["DATABASE_URL"]])
        pooled.close_all()
    yield json.loads(out)


def _captured_main(argv: list[str]) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = relevance.main(argv)
    assert code == 0, buffer.getvalue()
    return buffer.getvalue()


def test_the_set_has_at_least_forty_queries_with_unique_ids() -> None:
    queries = relevance.load_queries(relevance.DEFAULT_FILE)
    assert len(queries) >= 40
    assert len({q.id for q in queries}) == len(queries)


def test_every_query_has_relevant_documents_in_the_demo_data(demo: dict[str, str]) -> None:
    queries = relevance.load_queries(relevance.DEFAULT_FILE)
    anchor = relevance.load_dataset(relevance.DEFAULT_FILE).anchor
    pools = relevance.resolve(queries, demo["DATABASE_URL"], anchor)
    assert [q.id for q in queries if not pools[q.id]] == []


@pytest.mark.slow
def test_the_measurement_reports_recall_and_ndcg_per_mode(report: dict[str, Any]) -> None:
    assert report["modes"], "no mode was measured"
    for figures in report["modes"].values():
        assert 0.0 <= figures["recall@10"] <= 1.0
        assert 0.0 <= figures["ndcg@10"] <= 1.0
        assert len(figures["per_query"]) == report["queries"]


@pytest.mark.slow
def test_every_hit_names_a_document_the_set_can_judge(report: dict[str, Any]) -> None:
    # A hit whose id relevance.py cannot map would count as irrelevant and quietly lower the
    # figures: a change of the hit format must change the mapping too.
    assert {mode: f["unmapped_hits"] for mode, f in report["modes"].items()} == dict.fromkeys(
        report["modes"], 0
    )


@pytest.mark.slow
def test_hybrid_beats_bm25_on_ndcg(report: dict[str, Any]) -> None:
    modes = report["modes"]
    assert modes["hybrid"]["ndcg@10"] > modes["bm25"]["ndcg@10"]


# ---- the metrics themselves, on hand-made rankings ----

POOL = {"gong:1:0": 2, "gong:1:5": 1, "slack:C1:1.0": 2}


def test_recall_is_capped_by_the_pool_size() -> None:
    assert relevance.recall_at_k(["gong:1:0", "x", "gong:1:5"], POOL) == pytest.approx(2 / 3)
    big_pool = {f"asana:{i}": 1 for i in range(50)}
    assert relevance.recall_at_k([f"asana:{i}" for i in range(10)], big_pool) == 1.0


def test_ndcg_is_one_for_the_ideal_order_and_less_when_grades_are_swapped() -> None:
    assert relevance.ndcg_at_k(["gong:1:0", "slack:C1:1.0", "gong:1:5"], POOL) == pytest.approx(1)
    assert relevance.ndcg_at_k(["gong:1:5", "gong:1:0", "slack:C1:1.0"], POOL) < 1


def test_a_document_returned_twice_counts_once() -> None:
    assert relevance.ndcg_at_k(["gong:1:0", "gong:1:0"], POOL) == relevance.ndcg_at_k(
        ["gong:1:0", None], POOL
    )


def test_hits_map_to_documents_by_their_id() -> None:
    assert relevance.hit_key({"id": "gong:77:24568"}) == "gong:77:24568"
    assert relevance.hit_key({"id": "slack:C01:1771033570.003449"}) == "slack:C01:1771033570.003449"
    assert relevance.hit_key({"id": "asana:1204500000000700"}) == "asana:1204500000000700"
    assert relevance.hit_key({"source": "gong", "call_id": "77", "start_ms": 5}) == "gong:77:5"
    assert relevance.hit_key({"id": "", "source": "hubspot"}) is None


def test_a_time_window_of_last_month_is_the_previous_calendar_month() -> None:
    now = datetime(2026, 3, 15, 12, tzinfo=UTC)
    assert relevance.window_bounds({"month": "last"}, now) == (
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    )


def test_queries_are_grouped_by_the_need_they_stand_for() -> None:
    queries = {q.id: q for q in relevance.load_queries(relevance.DEFAULT_FILE)}
    assert relevance.groups_of(queries["customers-pricing-last-month"]) == [
        "customer-voice",
        "time-window",
    ]
    assert relevance.groups_of(queries["questionnaire-in-sales"]) == ["typed-filter"]
    assert relevance.groups_of(queries["nps-results"]) == ["plain"]
