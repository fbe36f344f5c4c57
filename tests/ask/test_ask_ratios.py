"""Ratios across models: "calls per won deal by owner" counts Gong calls and HubSpot won deals
each in its own source and joins them through the owners' emails; an owner that cannot be
matched by email makes the answer refuse, naming them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from ask_fixture_data import AS_OF, load
from ask_helpers import clone_database, drop_database

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.bi.semantic import load_layer
from sophia_cli.core.errors import NotUnderstoodError
from sophia_cli.core.settings import Settings

# Gong users get the HubSpot owners' emails (case differs on purpose); Alex joins Gong.
MATCHED = """
UPDATE gong.users SET email = upper(first_name) || '@ACME.test';
INSERT INTO gong.users (id, email, first_name, last_name)
VALUES ('g4', 'alex@acme.test', 'Alex', 'Kim');
"""

PER_OWNER = """
WITH n AS (SELECT lower(gu.email) AS k, count(*) AS calls FROM gong.calls g
           JOIN gong.users gu ON gu.id = g.primary_user_id GROUP BY 1),
     d AS (SELECT lower(o.email) AS k, o.first_name || ' ' || o.last_name AS owner,
                  count(*) AS won FROM hubspot.deals d JOIN hubspot.owners o ON o.id = d.owner_id
           WHERE d.is_won AND NOT d.archived GROUP BY 1, 2)
SELECT d.owner, coalesce(n.calls, 0)::numeric / d.won FROM d LEFT JOIN n ON n.k = d.k
"""


@pytest.fixture(scope="module")
def company_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    url = clone_database(pg_admin_url, warehouse_template)
    load(url)
    with psycopg.connect(url) as conn:
        conn.execute(MATCHED)
    yield url
    drop_database(pg_admin_url, url)


def _scalar(url: str, sql: str) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_calls_per_won_deal_is_declared_once_and_derives_its_model_from_the_numerator() -> None:
    metric = load_layer().metrics["calls_per_won_deal"]
    assert metric.ratio is not None
    assert (metric.model, metric.time) == ("calls", "g.started_at")


def test_calls_per_won_deal_by_owner_divides_each_owners_calls_by_their_won_deals(
    settings: Settings, company_url: str
) -> None:
    answer = ask(settings, "calls per won deal by owner", AS_OF, use_cache=False)
    assert answer.columns == ["owner", "calls_per_won_deal"]
    with psycopg.connect(company_url) as conn:
        expected: dict[str, Any] = dict(conn.execute(PER_OWNER).fetchall())
    got = {row[0]: row[1] for row in answer.rows}
    assert got.keys() == expected.keys() and len(got) >= 2
    for owner, ratio in expected.items():
        assert got[owner] == pytest.approx(float(ratio))
    ratios = [row[1] for row in answer.rows if row[1] is not None]
    assert ratios == sorted(ratios, reverse=True)


def test_calls_per_won_deal_overall_is_all_calls_over_all_won_deals(
    settings: Settings, company_url: str
) -> None:
    answer = ask(settings, "calls per won deal", AS_OF, use_cache=False)
    calls = _scalar(company_url, "SELECT count(*) FROM gong.calls")
    won = _scalar(company_url, "SELECT count(*) FROM hubspot.deals WHERE is_won AND NOT archived")
    assert answer.rows[0][0] == pytest.approx(calls / won)


def test_an_owner_without_a_matching_email_makes_the_ratio_refuse_and_names_them(
    settings: Settings, company_url: str
) -> None:
    with psycopg.connect(company_url) as conn:
        conn.execute("UPDATE gong.users SET email = 'sam@elsewhere.test' WHERE id = 'g2'")
    try:
        with pytest.raises(NotUnderstoodError) as refused:
            ask(settings, "calls per won deal by owner", AS_OF, use_cache=False)
    finally:
        with psycopg.connect(company_url) as conn:
            conn.execute("UPDATE gong.users SET email = 'SAM@ACME.test' WHERE id = 'g2'")
    assert "matched by email" in str(refused.value)
    assert "Sam Ortiz (gong, sam@elsewhere.test)" in str(refused.value)


def test_a_ratio_by_a_dimension_only_one_source_has_is_refused(settings: Settings) -> None:
    with pytest.raises(NotUnderstoodError, match="only be broken down by owner"):
        ask(settings, "calls per won deal by direction", AS_OF, use_cache=False)
