"""Questions in plain language return the same rows as hand-written SQL for the same question.

Every question is pinned to AS_OF (Wednesday 2026-07-15); the SQL spells out its dates.
Rankings and breakdowns sort by the metric, highest first, ties by name; series by time.
"""

from __future__ import annotations

from typing import Any

import pytest
from ask_fixture_data import AS_OF
from ask_helpers import same_rows

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.settings import Settings

OWNER = "o.first_name || ' ' || o.last_name"
DEALS = "FROM hubspot.deals d LEFT JOIN hubspot.owners o ON o.id = d.owner_id WHERE NOT d.archived"
DEALS_CO = (
    "FROM hubspot.deals d LEFT JOIN hubspot.companies c ON c.id = d.company_id WHERE NOT d.archived"
)
TASKS = (
    "FROM asana.tasks t LEFT JOIN asana.users u ON u.gid = t.assignee_gid "
    "LEFT JOIN asana.projects p ON p.gid = t.project_gid WHERE NOT t.deleted"
)
MSGS = (
    "FROM slack.messages m LEFT JOIN slack.channels ch ON ch.id = m.channel_id "
    "LEFT JOIN slack.users su ON su.id = m.user_id WHERE NOT m.deleted"
)
CALLS = "FROM gong.calls g LEFT JOIN gong.users gu ON gu.id = g.primary_user_id WHERE true"
LAST_Q = "'2026-04-01' AND {c} < '2026-07-01'"


def between(column: str, start: str, end: str) -> str:
    return f"{column} >= '{start}' AND {column} < '{end}'"


CASES: list[tuple[str, str]] = [
    ("won revenue last quarter",
     f"SELECT coalesce(sum(amount), 0) {DEALS} AND is_won AND {between('close_date', '2026-04-01', '2026-07-01')}"),  # noqa: E501
    ("won revenue by owner last quarter",
     f"SELECT {OWNER} AS n, sum(amount) AS v {DEALS} AND is_won AND "
     f"{between('close_date', '2026-04-01', '2026-07-01')} GROUP BY 1 ORDER BY v DESC, n"),
    ("top 3 owners by won revenue this year",
     f"SELECT {OWNER} AS n, sum(amount) AS v {DEALS} AND is_won AND "
     f"{between('close_date', '2026-01-01', '2027-01-01')} GROUP BY 1 ORDER BY v DESC, n LIMIT 3"),
    ("bottom 2 owners by deals won in 2025",
     f"SELECT {OWNER} AS n, count(*) AS v {DEALS} AND is_won AND "
     f"{between('close_date', '2025-01-01', '2026-01-01')} GROUP BY 1 ORDER BY v ASC, n LIMIT 2"),
    ("how many deals did we win in Q3 2025",
     f"SELECT count(*) {DEALS} AND is_won AND {between('close_date', '2025-07-01', '2025-10-01')}"),
    ("number of lost deals last year",
     f"SELECT count(*) {DEALS} AND is_closed AND NOT is_won AND "
     f"{between('close_date', '2025-01-01', '2026-01-01')}"),
    ("open deals by stage",
     f"SELECT stage, count(*) AS v {DEALS} AND NOT is_closed GROUP BY 1 ORDER BY v DESC, stage"),
    ("pipeline value by pipeline",
     f"SELECT pipeline, sum(amount) AS v {DEALS} AND NOT is_closed GROUP BY 1 ORDER BY v DESC, pipeline"),  # noqa: E501
    ("average deal size ytd",
     f"SELECT avg(amount) {DEALS} AND is_won AND {between('close_date', '2026-01-01', '2026-07-16')}"),  # noqa: E501
    ("win rate last year",
     f"SELECT avg(CASE WHEN is_won THEN 1.0 ELSE 0 END) {DEALS} AND is_closed AND "
     f"{between('close_date', '2025-01-01', '2026-01-01')}"),
    ("win rate by owner in 2025",
     f"SELECT {OWNER} AS n, avg(CASE WHEN is_won THEN 1.0 ELSE 0 END) AS v {DEALS} AND is_closed "
     f"AND {between('close_date', '2025-01-01', '2026-01-01')} GROUP BY 1 ORDER BY v DESC, n"),
    ("average sales cycle this year",
     f"SELECT avg(extract(epoch FROM close_date - created_at) / 86400) {DEALS} AND is_won AND "
     f"{between('close_date', '2026-01-01', '2027-01-01')}"),
    ("deals created by month this year",
     f"SELECT date_trunc('month', created_at)::date AS b, count(*) {DEALS} AND "
     f"{between('created_at', '2026-01-01', '2027-01-01')} GROUP BY 1 ORDER BY 1"),
    ("deals in the Enterprise pipeline",
     f"SELECT count(*) {DEALS} AND pipeline = 'Enterprise'"),
    ("revenue for Acme Corp",
     f"SELECT coalesce(sum(amount), 0) {DEALS_CO} AND is_won AND c.name = 'Acme Corp'"),
    ("revnue for Acme Corpp this year",
     f"SELECT coalesce(sum(amount), 0) {DEALS_CO} AND is_won AND c.name = 'Acme Corp' AND "
     f"{between('close_date', '2026-01-01', '2027-01-01')}"),
    ("deals owned by Dana",
     f"SELECT count(*) {DEALS} AND o.first_name = 'Dana'"),
    ("won revenue by industry since January",
     f"SELECT c.industry AS n, sum(amount) AS v {DEALS_CO} AND is_won AND "
     f"{between('close_date', '2026-01-01', '2026-07-16')} GROUP BY 1 ORDER BY v DESC, n"),
    ("top five companies by won revenue",
     f"SELECT c.name AS n, sum(amount) AS v {DEALS_CO} AND is_won GROUP BY 1 "
     f"ORDER BY v DESC, n LIMIT 5"),
    ("how many companies do we have",
     "SELECT count(*) FROM hubspot.companies WHERE NOT archived"),
    ("contacts by lifecycle stage",
     "SELECT lifecycle_stage, count(*) AS v FROM hubspot.contacts WHERE NOT archived "
     "GROUP BY 1 ORDER BY v DESC, lifecycle_stage"),
    ("new contacts last 6 months",
     f"SELECT count(*) FROM hubspot.contacts WHERE NOT archived AND "
     f"{between('created_at', '2026-01-16', '2026-07-16')}"),
    ("tasks completed last month",
     f"SELECT count(*) {TASKS} AND completed AND {between('completed_at', '2026-06-01', '2026-07-01')}"),  # noqa: E501
    ("completed tasks by assignee past 30 days",
     f"SELECT u.name AS n, count(*) AS v {TASKS} AND completed AND "
     f"{between('completed_at', '2026-06-16', '2026-07-16')} GROUP BY 1 ORDER BY v DESC, n"),
    ("open tasks by project",
     f"SELECT p.name AS n, count(*) AS v {TASKS} AND NOT completed GROUP BY 1 ORDER BY v DESC, n"),
    ("overdue tasks by assignee",
     f"SELECT u.name AS n, count(*) AS v {TASKS} AND NOT completed AND due_on < '2026-07-15' "
     "GROUP BY 1 ORDER BY v DESC, n NULLS LAST"),
    ("task completion rate by team",
     f"SELECT p.team_name AS n, avg(CASE WHEN completed THEN 1.0 ELSE 0 END) AS v {TASKS} "
     "GROUP BY 1 ORDER BY v DESC, n"),
    ("average days to complete tasks this year",
     f"SELECT avg(extract(epoch FROM completed_at - t.created_at) / 86400) {TASKS} AND completed "
     f"AND {between('completed_at', '2026-01-01', '2027-01-01')}"),
    ("tasks created weekly last month",
     f"SELECT date_trunc('week', t.created_at)::date, count(*) {TASKS} AND "
     f"{between('t.created_at', '2026-06-01', '2026-07-01')} GROUP BY 1 ORDER BY 1"),
    ("messages in #sales last week",
     f"SELECT count(*) {MSGS} AND ch.name = 'sales' AND {between('posted_at', '2026-07-06', '2026-07-13')}"),  # noqa: E501
    ("active users by channel this month",
     f"SELECT ch.name AS n, count(DISTINCT m.user_id) AS v {MSGS} AND NOT su.is_bot AND "
     f"{between('posted_at', '2026-07-01', '2026-08-01')} GROUP BY 1 ORDER BY v DESC, n"),
    ("threads per channel",
     f"SELECT ch.name AS n, count(*) AS v {MSGS} AND m.thread_ts = m.ts GROUP BY 1 ORDER BY v DESC, n"),  # noqa: E501
    ("slack messages yesterday",
     f"SELECT count(*) {MSGS} AND {between('posted_at', '2026-07-14', '2026-07-15')}"),
    ("messages by slack user past 2 weeks",
     f"SELECT su.real_name AS n, count(*) AS v {MSGS} AND "
     f"{between('posted_at', '2026-07-02', '2026-07-16')} GROUP BY 1 ORDER BY v DESC, n"),
    ("calls last month",
     f"SELECT count(*) {CALLS} AND {between('started_at', '2026-06-01', '2026-07-01')}"),
    ("total call minutes by call owner this year",
     f"SELECT gu.first_name || ' ' || gu.last_name AS n, sum(duration_seconds) / 60.0 AS v {CALLS} "
     f"AND {between('started_at', '2026-01-01', '2027-01-01')} GROUP BY 1 ORDER BY v DESC, n"),
    ("average call length by direction",
     f"SELECT direction, avg(duration_seconds) / 60.0 AS v {CALLS} GROUP BY 1 ORDER BY v DESC, direction"),  # noqa: E501
    ("external calls mtd",
     f"SELECT count(*) {CALLS} AND scope = 'External' AND {between('started_at', '2026-07-01', '2026-07-16')}"),  # noqa: E501
    ("calls and call minutes in March 2026",
     f"SELECT count(*), sum(duration_seconds) / 60.0 {CALLS} AND "
     f"{between('started_at', '2026-03-01', '2026-04-01')}"),
    ("won revenue between March 2026 and May 2026",
     f"SELECT coalesce(sum(amount), 0) {DEALS} AND is_won AND {between('close_date', '2026-03-01', '2026-06-01')}"),  # noqa: E501
    ("deals lost before 2026-01-01",
     f"SELECT count(*) {DEALS} AND is_closed AND NOT is_won AND close_date < '2026-01-01'"),
    ("deals won after March 2026",
     f"SELECT count(*) {DEALS} AND is_won AND close_date >= '2026-04-01'"),
    ("which owner closed the most revenue last year",
     f"SELECT {OWNER} AS n, sum(amount) AS v {DEALS} AND is_won AND "
     f"{between('close_date', '2025-01-01', '2026-01-01')} GROUP BY 1 ORDER BY v DESC, n LIMIT 1"),
    ("quarterly won revenue in 2025",
     f"SELECT date_trunc('quarter', close_date)::date, sum(amount) {DEALS} AND is_won AND "
     f"{between('close_date', '2025-01-01', '2026-01-01')} GROUP BY 1 ORDER BY 1"),
    ("won revenu by ownr last quarter",
     f"SELECT {OWNER} AS n, sum(amount) AS v {DEALS} AND is_won AND "
     f"{between('close_date', '2026-04-01', '2026-07-01')} GROUP BY 1 ORDER BY v DESC, n"),
    ("calls by scope qtd",
     f"SELECT scope, count(*) AS v {CALLS} AND {between('started_at', '2026-07-01', '2026-07-16')} "
     "GROUP BY 1 ORDER BY v DESC, scope"),
    ("deals won for Globex and Initech",
     f"SELECT count(*) {DEALS_CO} AND is_won AND c.name IN ('Globex', 'Initech')"),
    ("wins by owner in the SMB pipeline last year",
     f"SELECT {OWNER} AS n, count(*) AS v {DEALS} AND is_won AND pipeline = 'SMB' AND "
     f"{between('close_date', '2025-01-01', '2026-01-01')} GROUP BY 1 ORDER BY v DESC, n NULLS LAST"),  # noqa: E501
    ("What was our total pipeline value in the Enterprise pipeline?",
     f"SELECT coalesce(sum(amount), 0) {DEALS} AND NOT is_closed AND pipeline = 'Enterprise'"),
    ("best month for won revenue this year",
     f"SELECT date_trunc('month', close_date)::date AS b, sum(amount) AS v {DEALS} AND is_won AND "
     f"{between('close_date', '2026-01-01', '2027-01-01')} GROUP BY 1 ORDER BY v DESC, b LIMIT 1"),
]  # fmt: skip


def test_the_corpus_has_at_least_forty_questions() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("question", "expected_sql"), CASES, ids=[q for q, _ in CASES])
def test_question_returns_the_rows_of_hand_written_sql(
    settings: Settings, rows_of: Any, question: str, expected_sql: str
) -> None:
    answer = ask(settings, question, AS_OF, use_cache=False)
    want = rows_of(expected_sql)
    assert want, f"hand-written SQL for {question!r} returned nothing: the fixture is too thin"
    assert same_rows(answer.rows, want), (answer.sql, answer.rows, want)
    assert answer.source == "rules"
    assert answer.as_of == AS_OF
