"""The shapes people ask beyond "metric by dimension in period": comparisons of two periods,
thresholds on rows and on groups, exclusions, missing values, shares and lists of rows.

Each answer is checked against hand-written SQL over the fixture company (AS_OF 2026-07-15).
"""

from __future__ import annotations

from typing import Any

import pytest
from ask_fixture_data import AS_OF
from ask_helpers import interp, same_rows

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.errors import NotUnderstoodError
from sophia_cli.core.settings import Settings

DEALS = "FROM hubspot.deals d LEFT JOIN hubspot.owners o ON o.id = d.owner_id WHERE NOT d.archived"
DEALS_CO = (
    "FROM hubspot.deals d LEFT JOIN hubspot.companies c ON c.id = d.company_id WHERE NOT d.archived"
)
OWNER = "o.first_name || ' ' || o.last_name"


def won(rows_of: Any, start: str, end: str) -> float:
    sql = (f"SELECT coalesce(sum(amount), 0) {DEALS} AND is_won "
           f"AND close_date >= '{start}' AND close_date < '{end}'")  # fmt: skip
    return float(rows_of(sql)[0][0])


def test_two_named_periods_give_both_values_the_difference_and_the_percentage(
    settings: Settings, rows_of: Any
) -> None:
    answer = ask(settings, "compare won revenue this quarter vs last quarter", AS_OF,
                 use_cache=False)  # fmt: skip
    now, then = won(rows_of, "2026-07-01", "2026-10-01"), won(rows_of, "2026-04-01", "2026-07-01")
    assert answer.columns == ["won_revenue", "won_revenue_previous", "won_revenue_change",
                              "won_revenue_change_pct"]  # fmt: skip
    assert same_rows(answer.rows, [[now, then, now - then, (now - then) / then]])
    assert "vs" in answer.answer and "%" in answer.answer


def test_same_quarter_last_year_shifts_the_period_by_a_year(
    settings: Settings, rows_of: Any
) -> None:
    answer = ask(settings, "won revenue last quarter vs same quarter last year", AS_OF,
                 use_cache=False)  # fmt: skip
    assert interp(answer)["compare_to"]["start"] == "2025-04-01"
    assert answer.rows[0][1] == won(rows_of, "2025-04-01", "2025-07-01")


def test_yoy_without_a_period_compares_the_year_to_date_with_the_same_days_a_year_earlier(
    settings: Settings, rows_of: Any
) -> None:
    answer = ask(settings, "won revenue yoy", AS_OF, use_cache=False)
    assert interp(answer)["time_range"]["dates"] == "2026-01-01 to 2026-07-15"
    assert interp(answer)["compare_to"]["dates"] == "2025-01-01 to 2025-07-15"
    assert answer.rows[0][:2] == [won(rows_of, "2026-01-01", "2026-07-16"),
                                  won(rows_of, "2025-01-01", "2025-07-16")]  # fmt: skip


def test_a_comparison_by_owner_keeps_owners_found_in_only_one_period(
    settings: Settings, rows_of: Any
) -> None:
    answer = ask(settings, "deals won by owner this year vs last year", AS_OF, use_cache=False)
    owners = rows_of(f"SELECT DISTINCT {OWNER} {DEALS} AND is_won AND close_date >= '2025-01-01'")
    assert {row[0] for row in answer.rows} == {row[0] for row in owners}


def test_deals_over_50k_compare_each_deals_amount(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT count(*) {DEALS} AND amount > 50000")
    answer = ask(settings, "deals over 50k", AS_OF, use_cache=False)
    assert same_rows(answer.rows, want)
    assert "amount > $50k" in answer.answer


def test_companies_with_more_than_n_deals_keep_only_those_groups(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of(f"SELECT c.name AS n, count(*) AS v {DEALS_CO} GROUP BY 1 "
                   "HAVING count(*) > 10 ORDER BY v DESC, n")  # fmt: skip
    assert same_rows(ask(settings, "companies with more than 10 deals", AS_OF,
                         use_cache=False).rows, want)  # fmt: skip


def test_excluding_a_company_keeps_every_other_deal(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT coalesce(sum(amount), 0) {DEALS_CO} AND is_won "
                   "AND c.name IS DISTINCT FROM 'Acme Corp'")  # fmt: skip
    answer = ask(settings, "won revenue excluding Acme Corp", AS_OF, use_cache=False)
    assert same_rows(answer.rows, want)
    assert interp(answer)["filters"][0]["exclude"] is True


def test_not_in_a_pipeline_excludes_it(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT count(*) {DEALS} AND NOT is_closed AND pipeline <> 'SMB'")
    assert same_rows(ask(settings, "open deals not in the SMB pipeline", AS_OF,
                         use_cache=False).rows, want)  # fmt: skip


def test_without_an_owner_keeps_the_rows_that_have_none(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT count(*) {DEALS} AND owner_id IS NULL")
    assert same_rows(ask(settings, "deals without an owner", AS_OF, use_cache=False).rows, want)


def test_share_of_gives_the_part_the_whole_and_the_share(settings: Settings, rows_of: Any) -> None:
    part = rows_of(f"SELECT sum(amount) {DEALS} AND is_won AND pipeline = 'Enterprise'")[0][0]
    whole = rows_of(f"SELECT sum(amount) {DEALS} AND is_won")[0][0]
    answer = ask(settings, "what share of won revenue came from the Enterprise pipeline", AS_OF,
                 use_cache=False)  # fmt: skip
    assert same_rows(answer.rows, [[part, whole, part / whole]])


def test_a_list_returns_the_rows_capped_with_their_count(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT d.name {DEALS} AND is_closed AND NOT is_won "
                   "AND close_date >= '2025-01-01' AND close_date < '2026-01-01'")  # fmt: skip
    answer = ask(settings, "list the deals we lost last year", AS_OF, use_cache=False)
    assert answer.columns[0] == "name"
    assert sorted(row[0] for row in answer.rows) == sorted(row[0] for row in want)
    assert answer.answer.startswith(f"{len(want)} deals lost last year")


def test_which_deals_closed_lists_them(settings: Settings) -> None:
    answer = ask(settings, "which deals closed this year", AS_OF, use_cache=False)
    assert interp(answer)["list"] is True and answer.rows


def test_a_threshold_on_a_total_without_groups_is_refused(settings: Settings) -> None:
    with pytest.raises(NotUnderstoodError):
        ask(settings, "won revenue more than 5 deals won", AS_OF, use_cache=False)


def test_growth_without_a_period_is_refused(settings: Settings) -> None:
    with pytest.raises(NotUnderstoodError):
        ask(settings, "won revenue growth", AS_OF, use_cache=False)


def test_vs_last_quarter_alone_compares_this_quarter_with_it(
    settings: Settings, rows_of: Any
) -> None:
    answer = ask(settings, "won revenue vs last quarter", AS_OF, use_cache=False)
    assert interp(answer)["time_range"]["dates"] == "2026-07-01 to 2026-09-30"
    assert answer.rows[0][1] == won(rows_of, "2026-04-01", "2026-07-01")


def test_vs_with_a_single_period_is_refused_not_dropped(settings: Settings) -> None:
    with pytest.raises(NotUnderstoodError):
        ask(settings, "won revenue vs Q2", AS_OF, use_cache=False)


def test_an_amount_before_a_verb_filters_rows_not_groups(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT count(*) {DEALS} AND is_closed AND NOT is_won AND amount > 50000")
    assert same_rows(ask(settings, "deals over 50k lost", AS_OF, use_cache=False).rows, want)


def test_the_biggest_deal_is_a_row_ranked_by_amount(settings: Settings, rows_of: Any) -> None:
    want = rows_of(f"SELECT d.name, amount {DEALS} AND is_won ORDER BY amount DESC LIMIT 1")
    answer = ask(settings, "what was the biggest deal we won", AS_OF, use_cache=False)
    assert [answer.rows[0][0]] == [want[0][0]]
    assert "highest amount" in answer.answer


def test_the_busiest_channel_ranks_channels_by_messages(settings: Settings, rows_of: Any) -> None:
    want = rows_of("SELECT ch.name, count(*) AS v FROM slack.messages m JOIN slack.channels ch "
                   "ON ch.id = m.channel_id WHERE NOT m.deleted GROUP BY 1 "
                   "ORDER BY v DESC, 1 LIMIT 1")  # fmt: skip
    assert same_rows(ask(settings, "busiest channel", AS_OF, use_cache=False).rows, want)


def test_busiest_with_a_dimension_of_several_models_is_refused(settings: Settings) -> None:
    with pytest.raises(NotUnderstoodError):
        ask(settings, "quietest rep", AS_OF, use_cache=False)
