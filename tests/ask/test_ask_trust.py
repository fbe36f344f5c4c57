"""Zero silent wrong answers: every word of a question changes the answer or makes it refuse.

The fixture company gets a few extra rows here so each trap the issue names can be sprung:
a channel with a hyphen, a company whose name is one letter from an industry, an accented
name, an open deal expected to close next month, and a crowd of unassigned open tasks.
Each answer is checked against hand-written SQL for the question people meant.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from ask_fixture_data import AS_OF, load
from ask_helpers import clone_database, drop_database, interp, same_rows

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.errors import NotUnderstoodError
from sophia_cli.core.settings import Settings

EXTRA = """
INSERT INTO hubspot.companies (id, name, industry, owner_id, created_at) VALUES
  ('c7', 'Financial Service', 'RETAIL', 'o1', '2026-01-05'),
  ('c8', 'Zoë Analytics', 'FINANCIAL_SERVICES', 'o2', '2026-02-05'),
  ('c9', 'Mercy General', 'HOSPITAL_HEALTH_CARE', 'o3', '2026-03-05');
INSERT INTO hubspot.deals (id, name, amount, pipeline, stage, close_date, is_closed, is_won,
  owner_id, company_id, created_at, updated_at, archived) VALUES
  ('d100', 'Zoe 1', 10000, 'SMB', 'Closed Won', '2026-07-01', true, true, 'o2', 'c8',
   '2026-05-01', '2026-05-01', false),
  ('d101', 'Zoe 2', 20000, 'SMB', 'Closed Won', '2026-06-01', true, true, 'o2', 'c8',
   '2026-04-01', '2026-04-01', false),
  ('d102', 'Mercy', 30000, 'SMB', 'Proposal', '2026-08-10', false, false, 'o3', 'c9',
   '2026-07-01', '2026-07-01', false);
INSERT INTO hubspot.deals (id, name, amount, pipeline, stage, close_date, is_closed, is_won,
  owner_id, company_id, created_at, updated_at, archived) VALUES
  ('d103', 'Sent', 5000, 'SMB', 'contractsent', '2026-07-17', false, false, 'o1', 'c1',
   '2026-07-01', '2026-07-01', false);
INSERT INTO asana.projects (gid, name, team_name) VALUES ('p9', 'Q3 Launch', 'Marketing');
INSERT INTO asana.tasks (gid, project_gid, name, assignee_gid, completed, due_on, created_at,
  modified_at, deleted) VALUES
  ('tq1', 'p9', 'Launch 1', 'u1', false, '2026-07-20', '2026-07-01', '2026-07-01', false),
  ('tq2', 'p9', 'Launch 2', 'u1', false, '2026-07-21', '2026-07-01', '2026-07-01', false);
INSERT INTO slack.channels (id, name) VALUES ('C4', 'deals-desk');
INSERT INTO slack.messages (channel_id, ts, user_id, text, posted_at, deleted) VALUES
  ('C4', '1.1', 's1', 'hi', '2026-07-01', false),
  ('C4', '1.2', 's2', 'hi', '2026-07-02', false),
  ('C4', '1.3', 's2', 'hi', '2026-07-03', false);
INSERT INTO asana.tasks (gid, project_gid, name, assignee_gid, completed, due_on, created_at,
  modified_at, deleted)
SELECT 'tu' || g, 'p1', 'Unassigned ' || g, NULL, false, '2026-07-16', '2026-07-01',
  '2026-07-01', false FROM generate_series(1, 30) g;
"""
DEALS = "FROM hubspot.deals d LEFT JOIN hubspot.owners o ON o.id = d.owner_id WHERE NOT d.archived"
OWNER = "o.first_name || ' ' || o.last_name"


@pytest.fixture(scope="module")
def company_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    url = clone_database(pg_admin_url, warehouse_template)
    load(url)
    with psycopg.connect(url) as conn:
        conn.execute(EXTRA)  # type: ignore[arg-type]
    yield url
    drop_database(pg_admin_url, url)


def answer_rows(settings: Settings, question: str) -> list[list[Any]]:
    return ask(settings, question, AS_OF, use_cache=False).rows


def test_deals_we_closed_are_counted_by_close_date_won_or_lost(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of(f"SELECT count(*) {DEALS} AND is_closed AND close_date >= '2026-06-01' "
                   "AND close_date < '2026-07-01'")  # fmt: skip
    answer = ask(settings, "how many deals did we close last month", AS_OF, use_cache=False)
    assert same_rows(answer.rows, want)
    assert "by close date" in answer.answer


def test_who_closed_the_most_deals_ranks_owners_by_closed_deals(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of(
        f"SELECT {OWNER} AS n, count(*) AS v {DEALS} AND is_closed AND d.owner_id IS NOT NULL "
        "AND close_date >= '2026-04-01' AND close_date < '2026-07-01' "
        "GROUP BY 1 ORDER BY v DESC, n LIMIT 1"
    )
    assert same_rows(answer_rows(settings, "who closed the most deals last quarter"), want)


def test_how_much_we_won_from_a_company_is_an_amount(settings: Settings) -> None:
    answer = ask(settings, "how much have we won from Zoe Analytics", AS_OF, use_cache=False)
    assert answer.rows == [[30000.0]]
    assert interp(answer)["metrics"][0]["name"] == "won_revenue"


def test_how_many_deals_we_won_is_a_count(settings: Settings) -> None:
    assert answer_rows(settings, "how many deals have we won from Zoe Analytics") == [[2]]


def test_open_pipeline_is_dated_by_expected_close_date(settings: Settings) -> None:
    answer = ask(settings, "open pipeline next month", AS_OF, use_cache=False)
    assert answer.rows == [[30000.0]]
    assert "by expected close date" in answer.answer


def test_a_verb_picks_the_date_of_the_model(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT coalesce(sum(amount), 0) {DEALS} AND is_won "
                   "AND created_at >= '2026-04-01' AND created_at < '2026-07-01'")  # fmt: skip
    answer = ask(settings, "won revenue from deals created last quarter", AS_OF, use_cache=False)
    assert same_rows(answer.rows, want)
    assert "by creation date" in answer.answer


def test_tasks_due_are_dated_by_due_date(settings: Settings, rows_of: Any) -> None:
    want = rows_of("SELECT count(*) FROM asana.tasks WHERE NOT deleted "
                   "AND due_on >= '2026-07-13' AND due_on < '2026-07-20'")  # fmt: skip
    assert same_rows(answer_rows(settings, "tasks due this week"), want)


def test_rankings_leave_the_unassigned_bucket_out(settings: Settings, rows_of: Any) -> None:
    want = rows_of(
        "SELECT u.name AS n, count(*) AS v FROM asana.tasks t JOIN asana.users u "
        "ON u.gid = t.assignee_gid WHERE NOT t.deleted AND NOT t.completed "
        "GROUP BY 1 ORDER BY v DESC, n LIMIT 1"
    )
    assert same_rows(answer_rows(settings, "which reps have the most open tasks"), want)


def test_rankings_keep_the_unassigned_bucket_when_asked(settings: Settings) -> None:
    rows = answer_rows(settings, "top 5 assignees by open tasks including unassigned")
    assert rows[0][0] is None


def test_hyphenated_channel_names_match(settings: Settings) -> None:
    assert answer_rows(settings, "messages in #deals-desk") == [[3]]
    assert answer_rows(settings, "messages in the deals desk channel") == [[3]]


def test_accents_and_case_are_ignored_on_both_sides(settings: Settings) -> None:
    assert answer_rows(settings, "won revenue for ZOE ANALYTICS") == [[30000.0]]


def test_an_exact_industry_beats_a_fuzzy_company_name(settings: Settings) -> None:
    answer = ask(settings, "companies in financial services", AS_OF, use_cache=False)
    assert interp(answer)["filters"] == [
        {"dimension": "industry", "values": ["FINANCIAL_SERVICES"], "exclude": False}
    ]
    assert answer.rows == [[1]]


def test_value_synonyms_name_stored_values(settings: Settings) -> None:
    answer = ask(settings, "companies in hospitals", AS_OF, use_cache=False)
    assert interp(answer)["filters"] == [
        {"dimension": "industry", "values": ["HOSPITAL_HEALTH_CARE"], "exclude": False}
    ]


def test_a_name_between_two_names_matches_neither(settings: Settings) -> None:
    # "Globexx" is a typo of Globex; "Hoolibex" is near no name closely enough.
    assert answer_rows(settings, "won revenue for Globexx") == answer_rows(
        settings, "won revenue for Globex"
    )
    with pytest.raises(NotUnderstoodError):
        ask(settings, "won revenue for Hoolibex", AS_OF, use_cache=False)


def test_json_lists_the_words_used_for_each_part(settings: Settings) -> None:
    answer = ask(settings, "top 3 owners by won revenue last quarter", AS_OF, use_cache=False)
    words = interp(answer)["words"]
    assert words["metric"] == ["won", "revenue"]
    assert words["time"] == ["last", "quarter"]
    assert words["ranking"] == ["top", "3"]
    assert words["dimension"] == ["owners"]


@pytest.mark.parametrize(
    "question",
    [
        "total deal value last month",
        "deals refunded last month",
        "calls per deal",
        "won revenue in euros",
        "deals created and closed last month",
    ],
)
def test_a_word_that_cannot_be_placed_is_refused(settings: Settings, question: str) -> None:
    with pytest.raises(NotUnderstoodError):
        ask(settings, question, AS_OF, use_cache=False)


def test_the_noun_after_a_name_is_part_of_the_name_not_a_breakdown(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of("SELECT coalesce(sum(amount), 0) FROM hubspot.deals d JOIN hubspot.companies c "
                   "ON c.id = d.company_id WHERE NOT d.archived AND is_won "
                   "AND c.industry = 'Software'")  # fmt: skip
    answer = ask(settings, "won revenue from software companies", AS_OF, use_cache=False)
    assert interp(answer)["dimensions"] == []
    assert same_rows(answer.rows, want)


def test_a_time_phrase_inside_a_name_stays_part_of_the_name(settings: Settings) -> None:
    answer = ask(settings, "open tasks in Q3 Launch", AS_OF, use_cache=False)
    assert interp(answer)["time_range"] is None
    assert answer.rows == [[2]]


def test_an_id_spelled_as_words_and_a_name_spelled_as_one_word_match(settings: Settings) -> None:
    assert answer_rows(settings, "open deals in contract sent") == [[1]]
    assert answer_rows(settings, "messages in dealsdesk") == [[3]]


def test_expected_to_close_dates_open_deals_by_close_date_and_lists_them(
    settings: Settings,
) -> None:
    answer = ask(settings, "which open deals are expected to close this week", AS_OF,
                 use_cache=False)  # fmt: skip
    assert interp(answer)["list"] is True
    assert [row[0] for row in answer.rows] == ["Sent"]


def test_hours_of_calls_and_value_of_lost_deals_have_their_own_metrics(
    settings: Settings, rows_of: Any
) -> None:
    hours = rows_of("SELECT coalesce(sum(duration_seconds), 0) / 3600.0 FROM gong.calls")
    assert same_rows(answer_rows(settings, "how many hours of calls"), hours)
    lost = rows_of(f"SELECT coalesce(sum(amount), 0) {DEALS} AND is_closed AND NOT is_won")
    assert same_rows(answer_rows(settings, "total value of deals we lost"), lost)


def test_an_adjective_refines_a_count_and_keeps_its_date(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT count(*) {DEALS} AND NOT is_closed "
                   "AND created_at >= '2026-06-01' AND created_at < '2026-07-01'")  # fmt: skip
    answer = ask(settings, "deals created last month that are still open", AS_OF, use_cache=False)
    assert interp(answer)["metrics"][0]["name"] == "deals_open"
    assert interp(answer)["dated_by"] == "creation date"
    assert same_rows(answer.rows, want)
