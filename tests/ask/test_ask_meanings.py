"""Words with two meanings, and questions asking for records: read as meant, or refused.

"customers" names the company dimension and a contact lifecycle stage; "leads" and
"subscribers" are lifecycle stages, not every contact; "opportunities" may be deals or
contacts at that stage. "show me / what are the <records>" asks for the records themselves.
"how many owners have …" counts owners; a comparator without a number ("over an hour"), a
number per record ("revenue per deal") and a date verb without a period ("from new
customers") would each drop words, so they are refused. Each answer is checked against
hand-written SQL over the fixture company.
"""

from __future__ import annotations

from typing import Any

import pytest
from ask_fixture_data import AS_OF
from ask_helpers import interp, same_rows

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.errors import NotUnderstoodError
from sophia_cli.core.settings import Settings

CONTACTS = "SELECT count(*) FROM hubspot.contacts WHERE NOT archived"
WON_LAST_QUARTER = (
    "SELECT d.name FROM hubspot.deals d WHERE NOT d.archived AND d.is_won "
    "AND d.close_date >= '2026-04-01' AND d.close_date < '2026-07-01' ORDER BY d.name"
)


def test_contacts_that_are_customers_are_those_at_the_customer_stage(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of(f"{CONTACTS} AND lifecycle_stage = 'customer'")
    answer = ask(settings, "how many contacts are customers", AS_OF, use_cache=False)
    assert same_rows(answer.rows, want)
    assert "lifecycle stage customer" in answer.answer


def test_leads_are_contacts_at_the_lead_stage_not_every_contact(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of(f"{CONTACTS} AND lifecycle_stage = 'lead'")
    assert want != rows_of(CONTACTS)
    answer = ask(settings, "how many leads do we have", AS_OF, use_cache=False)
    assert same_rows(answer.rows, want)


def test_a_word_naming_deals_and_a_contact_stage_alone_is_refused(settings: Settings) -> None:
    with pytest.raises(NotUnderstoodError, match="may mean deals created or contacts"):
        ask(settings, "how many opportunities", AS_OF, use_cache=False)


def test_open_opportunities_are_deals_the_other_words_decide(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of("SELECT count(*) FROM hubspot.deals WHERE NOT archived AND NOT is_closed")
    assert same_rows(ask(settings, "how many open opportunities", AS_OF).rows, want)


def test_customers_still_name_companies_where_the_model_has_no_lifecycle(
    settings: Settings,
) -> None:
    answer = ask(settings, "won revenue by customer", AS_OF, use_cache=False)
    assert answer.columns[0] == "company"


@pytest.mark.parametrize(
    "question",
    ["show me the deals we won last quarter", "what are the deals we won last quarter",
     "give me all won deals last quarter"],
)  # fmt: skip
def test_show_me_the_records_lists_them(settings: Settings, rows_of: Any, question: str) -> None:
    answer = ask(settings, question, AS_OF, use_cache=False)
    assert sorted(row[0] for row in answer.rows) == [row[0] for row in rows_of(WON_LAST_QUARTER)]


def test_show_me_all_calls_lists_each_call_with_its_minutes(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of("SELECT title, round(duration_seconds / 60.0, 1) FROM gong.calls "
                   "WHERE started_at >= '2026-04-01' AND started_at < '2026-07-01' "
                   "ORDER BY 1")  # fmt: skip
    answer = ask(settings, "show me all calls last quarter", AS_OF, use_cache=False)
    assert want  # the fixture company made calls then
    assert sorted([row[0], row[3]] for row in answer.rows) == want


@pytest.mark.parametrize(
    "question",
    ["show me the number of deals we won last quarter", "give me deals won count last quarter",
     "show me how many deals we won last quarter"],
)  # fmt: skip
def test_show_me_a_number_of_records_counts_them(
    settings: Settings, rows_of: Any, question: str
) -> None:
    answer = ask(settings, question, AS_OF, use_cache=False)
    assert answer.rows == [[len(rows_of(WON_LAST_QUARTER))]]


def test_how_many_of_a_dimension_counts_its_members_not_a_breakdown(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of("SELECT count(DISTINCT owner_id) FROM hubspot.deals "
                   "WHERE NOT archived AND NOT coalesce(is_closed, false)")  # fmt: skip
    answer = ask(settings, "how many owners have open deals", AS_OF, use_cache=False)
    assert answer.rows == want  # the unassigned deals are nobody's: not an owner
    assert answer.answer.startswith(f"{want[0][0]} × owner")


def test_groups_kept_are_counted_in_full_beyond_the_rows_shown(
    settings: Settings, rows_of: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "ask_row_limit", 2)
    want = rows_of("SELECT count(*) FROM (SELECT company_id FROM hubspot.deals WHERE NOT "
                   "archived GROUP BY 1 HAVING count(*) > 1) k")  # fmt: skip
    assert want[0][0] > 2
    answer = ask(settings, "companies with more than 1 deal", AS_OF, use_cache=False)
    assert len(answer.rows) == 2 and answer.answer.startswith(f"{want[0][0]} × company")


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("how many calls over an hour", "needs a number"),
        ("won revenue per deal last quarter", "per deal"),
        ("how many deals did we win from new customers", "no period"),
        ("how many tasks were created and completed last month", "two dates"),
        ("deals won vs lost last month", "comparison"),  # not won this month vs last
    ],
)
def test_words_that_would_be_dropped_make_it_refuse(
    settings: Settings, question: str, reason: str
) -> None:
    with pytest.raises(NotUnderstoodError, match=reason):
        ask(settings, question, AS_OF, use_cache=False)


def test_a_bottom_ranking_of_a_count_says_groups_with_none_are_not_ranked(
    settings: Settings,
) -> None:
    fewest = ask(settings, "which owner has the fewest won deals", AS_OF, use_cache=False)
    most = ask(settings, "which owner has the most won deals", AS_OF, use_cache=False)
    note = "deals won by owner: only groups with at least one are ranked"
    assert any(n.startswith(note) for n in interp(fewest)["notes"])
    assert not any(n.startswith(note) for n in interp(most)["notes"])


def test_open_deals_closing_in_a_month_named_alone_are_those_expected_in_the_coming_one(
    settings: Settings, rows_of: Any
) -> None:
    """Open deals are dated by their expected close: the December that has not come yet."""
    coming = AS_OF.year  # the fixture's today is in July
    want = rows_of(
        "SELECT count(*) FROM hubspot.deals d WHERE NOT d.archived"
        " AND NOT coalesce(d.is_closed, false)"
        f" AND d.close_date >= '{coming}-12-01' AND d.close_date < '{coming + 1}-01-01'"
    )
    answer = ask(
        settings, "how many open deals are expected to close in december", AS_OF, use_cache=False
    )
    assert same_rows(answer.rows, want)
    assert f"{coming}-12-01" in answer.answer


def test_deals_won_in_a_month_named_alone_are_those_of_the_last_one(
    settings: Settings, rows_of: Any
) -> None:
    """What is dated when it happened keeps reading a bare month as the latest one."""
    last = AS_OF.year - 1  # the fixture's today is in July
    answer = ask(settings, "how many deals did we win in december", AS_OF, use_cache=False)
    assert f"{last}-12-01" in answer.answer


MESSAGES_BY_CHANNEL = (
    "SELECT c.name, count(*) AS n FROM slack.messages m JOIN slack.channels c"
    " ON c.id = m.channel_id GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1"
)


def test_a_hash_standing_alone_reads_as_number_of(settings: Settings, rows_of: Any) -> None:
    """ "# of deals" and "# open deals" count; "#sales" stays a channel."""
    want = rows_of("SELECT count(*) FROM hubspot.deals WHERE NOT archived AND is_won")
    for question in ("# of deals won", "# deals won"):
        answer = ask(settings, question, AS_OF, use_cache=False)
        assert same_rows(answer.rows, want), question


def test_the_most_active_channel_is_the_one_with_the_most_messages(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of(MESSAGES_BY_CHANNEL)
    answer = ask(settings, "most active slack channel", AS_OF, use_cache=False)
    assert answer.rows[0][0] == want[0][0]
    assert "active" in interp(answer)["words"]["metric"]


def test_who_posted_the_most_ranks_people_by_messages(settings: Settings, rows_of: Any) -> None:
    want = rows_of(
        "SELECT u.real_name, count(*) AS n FROM slack.messages m JOIN slack.users u"
        " ON u.id = m.user_id WHERE NOT u.is_bot GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1"
    )
    answer = ask(settings, "who posted the most in slack", AS_OF, use_cache=False)
    assert answer.rows[0][0] == want[0][0]


def test_people_who_posted_are_counted_once_each_and_ppl_means_people(
    settings: Settings, rows_of: Any
) -> None:
    want = rows_of(
        "SELECT count(DISTINCT m.user_id) FROM slack.messages m JOIN slack.users u"
        " ON u.id = m.user_id WHERE NOT u.is_bot"
    )
    answer = ask(settings, "how many ppl posted in slack", AS_OF, use_cache=False)
    assert same_rows(answer.rows, want)
