"""Deal stages and pipelines are shown by their labels once a sync stored them, else by id with
a note saying so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from ask_fixture_data import AS_OF, load
from ask_helpers import clone_database, drop_database, interp

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.settings import Settings

LABELS = """
INSERT INTO hubspot.pipelines (id, label, display_order, archived) VALUES
  ('Enterprise', 'Enterprise Sales', 1, false), ('SMB', 'Small Business', 0, false);
INSERT INTO hubspot.pipeline_stages (id, pipeline_id, label, display_order, probability,
  is_closed, is_won, archived)
SELECT s.id, p.id, 'Stage ' || s.id, 0, 0.5, false, false, false
FROM (VALUES ('Negotiation'), ('Proposal'), ('Qualified')) s(id),
     (VALUES ('Enterprise'), ('SMB')) p(id);
INSERT INTO sophia.sync_runs (run_id, source, stream, started_at, finished_at, status)
VALUES ('r9', 'hubspot', 'pipelines', '2026-07-14 07:00Z', '2026-07-14 07:01Z', 'success');
"""


@pytest.fixture(scope="module")
def company_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    url = clone_database(pg_admin_url, warehouse_template)
    load(url)
    yield url
    drop_database(pg_admin_url, url)


def test_without_label_rows_stages_show_their_id_and_the_answer_says_so(
    settings: Settings,
) -> None:
    answer = ask(settings, "open deals by stage", AS_OF, use_cache=False)
    assert {row[0] for row in answer.rows} == {"Negotiation", "Proposal", "Qualified"}
    assert any("hubspot.pipeline_stages is empty" in n for n in interp(answer)["notes"])


def test_with_label_rows_stages_and_pipelines_show_their_labels(
    settings: Settings, company_url: str
) -> None:
    with psycopg.connect(company_url) as conn:
        conn.execute(LABELS)  # type: ignore[arg-type]
    stages = ask(settings, "open deals by stage", AS_OF, use_cache=False)
    assert {row[0] for row in stages.rows} == {"Stage Negotiation", "Stage Proposal",
                                               "Stage Qualified"}  # fmt: skip
    assert interp(stages)["notes"] == []
    pipelines = ask(settings, "deals in the Enterprise Sales pipeline", AS_OF, use_cache=False)
    assert interp(pipelines)["filters"] == [
        {"dimension": "pipeline", "values": ["Enterprise Sales"], "exclude": False}
    ]
    assert pipelines.rows[0][0] > 0


ORDERED = """
UPDATE hubspot.pipelines SET display_order = CASE id WHEN 'SMB' THEN 0 ELSE 1 END;
UPDATE hubspot.pipeline_stages SET display_order = CASE id
  WHEN 'Qualified' THEN 0 WHEN 'Proposal' THEN 1 ELSE 2 END;
"""


def _store_ordered_labels(conn: psycopg.Connection[Any]) -> None:
    """Labels (once per module's warehouse) with a display order unlike the alphabet's."""
    stored = conn.execute("SELECT count(*) FROM hubspot.pipelines").fetchone()
    if not stored or not stored[0]:
        conn.execute(LABELS)
    conn.execute(ORDERED)


def test_a_breakdown_by_stage_follows_the_pipelines_display_order(
    settings: Settings, company_url: str
) -> None:
    with psycopg.connect(company_url) as conn:
        _store_ordered_labels(conn)
    answer = ask(settings, "open deals by stage", AS_OF, use_cache=False)
    assert [row[0] for row in answer.rows] == ["Stage Qualified", "Stage Proposal",
                                               "Stage Negotiation"]  # fmt: skip
    largest = max(answer.rows, key=lambda row: row[1])
    assert f"led by {largest[0]}" in answer.answer


def test_a_breakdown_by_pipeline_follows_their_display_order(
    settings: Settings, company_url: str
) -> None:
    with psycopg.connect(company_url) as conn:
        _store_ordered_labels(conn)
    answer = ask(settings, "open deals by pipeline", AS_OF, use_cache=False)
    assert [row[0] for row in answer.rows] == ["Small Business", "Enterprise Sales"]


def test_a_ranking_of_stages_still_orders_by_the_number(
    settings: Settings, company_url: str
) -> None:
    with psycopg.connect(company_url) as conn:
        _store_ordered_labels(conn)
    answer = ask(settings, "which stage has the most open deals", AS_OF, use_cache=False)
    values = [row[1] for row in answer.rows]
    assert values == sorted(values, reverse=True)
