"""A handful of questions over the sandbox company that `sophia demo` syncs (scale 0.1).

This runs the real path end to end: sandbox APIs → sync → warehouse → ask. Expectations are
hand-written SQL over the same warehouse; "today" is the sandbox's anchor (today, UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ask_helpers import clone_database, drop_database, same_rows

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.bi.execute import jsonable
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.store import embedded_milvus

TODAY = datetime.now(UTC).date()
OWNER = "o.first_name || ' ' || o.last_name"


@pytest.fixture(scope="module")
def demo_settings(
    pg_admin_url: str,
    warehouse_template: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Settings]:
    from sophia_cli.core.sync.demo import run_demo
    from sophia_cli.sandbox.api.app import start_sandbox

    url = clone_database(pg_admin_url, warehouse_template)
    home: Path = tmp_path_factory.mktemp("demo-home")
    settings = load_settings(
        database_url=url, redis_url=redis_url, redis_key_prefix="sophia-test-askdemo:",
        sophia_home=home,
    )  # fmt: skip
    try:
        with start_sandbox(seed=7, scale=0.1, rate_limits="off") as sandbox:
            report = run_demo(settings, sandbox.env, sandbox.base_url, seed=7, scale=0.1)
        assert report.sync.ok
        yield settings
    finally:  # the demo started the home's vector store: stop it even when the demo failed
        embedded_milvus.stop(home)
        drop_database(pg_admin_url, url)


def _rows(settings: Settings, sql: str) -> list[list[Any]]:
    url = settings.secret_value("database_url")
    assert url is not None
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return [[jsonable(c) for c in row] for row in conn.execute(sql).fetchall()]  # type: ignore[arg-type]


DEALS = "FROM hubspot.deals d LEFT JOIN hubspot.owners o ON o.id = d.owner_id WHERE NOT d.archived"
CASES = [
    ("won revenue by owner",
     f"SELECT {OWNER} AS n, sum(amount) AS v {DEALS} AND is_won GROUP BY 1 ORDER BY v DESC, n NULLS LAST"),  # noqa: E501
    ("open deals by stage",
     "SELECT coalesce(ps.label, d.stage) AS s, count(*) AS v FROM hubspot.deals d "
     "LEFT JOIN hubspot.pipelines pl ON pl.id = d.pipeline "
     "LEFT JOIN hubspot.pipeline_stages ps ON ps.pipeline_id = d.pipeline AND ps.id = d.stage "
     "WHERE NOT d.archived AND NOT d.is_closed GROUP BY 1 "
     "ORDER BY min(pl.display_order), min(ps.display_order), s"),  # the pipeline's order
    ("deals in the Enterprise pipeline",
     "SELECT count(*) FROM hubspot.deals d LEFT JOIN hubspot.pipelines pl ON pl.id = d.pipeline "
     "WHERE NOT d.archived AND lower(coalesce(pl.label, d.pipeline)) = 'enterprise'"),
    ("top 3 companies by won revenue",
     "SELECT c.name AS n, sum(amount) AS v FROM hubspot.deals d JOIN hubspot.companies c "
     "ON c.id = d.company_id WHERE is_won AND NOT d.archived GROUP BY 1 ORDER BY v DESC, n LIMIT 3"),  # noqa: E501
    ("overdue tasks by project",
     "SELECT p.name AS n, count(*) AS v FROM asana.tasks t LEFT JOIN asana.projects p "
     f"ON p.gid = t.project_gid WHERE NOT t.deleted AND NOT completed AND due_on < '{TODAY}' "
     "GROUP BY 1 ORDER BY v DESC, n NULLS LAST"),
    ("external calls past 90 days",
     "SELECT count(*) FROM gong.calls WHERE lower(scope) = 'external' AND "
     f"started_at >= date '{TODAY}' - 89 AND started_at < date '{TODAY}' + 1"),
]  # fmt: skip


@pytest.mark.parametrize(("question", "expected_sql"), CASES, ids=[q for q, _ in CASES])
def test_demo_question_matches_hand_written_sql(
    demo_settings: Settings, question: str, expected_sql: str
) -> None:
    answer = ask(demo_settings, question, TODAY, use_cache=False)
    want = _rows(demo_settings, expected_sql)
    assert want, "the demo data should answer this question"
    assert same_rows(answer.rows, want), (answer.sql, answer.rows[:5], want[:5])
