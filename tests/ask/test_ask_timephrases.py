"""Time phrases resolve to half-open [start, end) ranges anchored to --as-of."""

from __future__ import annotations

import json
from datetime import date

import pytest

from sophia_cli.core.bi.timephrases import Calendar, resolve
from sophia_cli.core.errors import InputError

WED = Calendar(date(2026, 7, 15))  # a Wednesday
D = date.fromisoformat

PHRASES = [
    ("today", "2026-07-15", "2026-07-16", "day"),
    ("yesterday", "2026-07-14", "2026-07-15", "day"),
    ("this week", "2026-07-13", "2026-07-20", "day"),
    ("last week", "2026-07-06", "2026-07-13", "day"),
    ("next week", "2026-07-20", "2026-07-27", "day"),
    ("this month", "2026-07-01", "2026-08-01", "week"),
    ("last month", "2026-06-01", "2026-07-01", "week"),
    ("next month", "2026-08-01", "2026-09-01", "week"),
    ("this quarter", "2026-07-01", "2026-10-01", "week"),
    ("last quarter", "2026-04-01", "2026-07-01", "week"),
    ("next quarter", "2026-10-01", "2027-01-01", "week"),
    ("this year", "2026-01-01", "2027-01-01", "month"),
    ("last year", "2025-01-01", "2026-01-01", "month"),
    ("next year", "2027-01-01", "2028-01-01", "month"),
    ("past 7 days", "2026-07-09", "2026-07-16", "day"),
    ("last 30 days", "2026-06-16", "2026-07-16", "week"),
    ("past 2 weeks", "2026-07-02", "2026-07-16", "day"),
    ("last 3 months", "2026-04-16", "2026-07-16", "week"),
    ("ytd", "2026-01-01", "2026-07-16", "month"),
    ("qtd", "2026-07-01", "2026-07-16", "week"),
    ("mtd", "2026-07-01", "2026-07-16", "week"),
    ("year to date", "2026-01-01", "2026-07-16", "month"),
    ("q3 2025", "2025-07-01", "2025-10-01", "week"),
    ("q1", "2026-01-01", "2026-04-01", "week"),
    ("march 2026", "2026-03-01", "2026-04-01", "week"),
    ("in march", "2026-03-01", "2026-04-01", "week"),
    ("in december", "2025-12-01", "2026-01-01", "week"),
    ("2025", "2025-01-01", "2026-01-01", "month"),
    ("since january", "2026-01-01", "2026-07-16", "month"),
    ("since last month", "2026-06-01", "2026-07-16", "week"),
    ("between march 2026 and may 2026", "2026-03-01", "2026-06-01", "week"),
    ("from q1 2026 to q2 2026", "2026-01-01", "2026-07-01", "month"),
    ("2026-03-05", "2026-03-05", "2026-03-06", "day"),
    ("march 5 2026", "2026-03-05", "2026-03-06", "day"),
    ("fy2025", "2025-01-01", "2026-01-01", "month"),
]


@pytest.mark.parametrize(("phrase", "start", "end", "grain"), PHRASES, ids=[p[0] for p in PHRASES])
def test_phrase_resolves_to_a_half_open_range(
    phrase: str, start: str, end: str, grain: str
) -> None:
    resolved = resolve(phrase, WED)
    assert (resolved.start, resolved.end, resolved.grain) == (D(start), D(end), grain)


def test_before_a_date_is_open_at_the_start() -> None:
    resolved = resolve("before 2026-03-01", WED)
    assert (resolved.start, resolved.end) == (None, D("2026-03-01"))


def test_after_a_month_starts_when_the_month_ends() -> None:
    resolved = resolve("after march 2026", WED)
    assert (resolved.start, resolved.end) == (D("2026-04-01"), None)


def test_week_can_start_on_sunday() -> None:
    resolved = resolve("this week", Calendar(date(2026, 7, 15), week_start=6))
    assert (resolved.start, resolved.end) == (D("2026-07-12"), D("2026-07-19"))


def test_fiscal_year_start_moves_quarters_and_years() -> None:
    cal = Calendar(date(2026, 7, 15), fiscal_start_month=2)
    assert (resolve("this quarter", cal).start, resolve("this quarter", cal).end) == (
        D("2026-05-01"), D("2026-08-01"))  # fmt: skip
    assert resolve("this year", cal).start == D("2026-02-01")
    assert resolve("q1 2026", cal).start == D("2026-02-01")
    assert resolve("2026", cal).start == D("2026-01-01")  # a bare year stays the calendar year


def test_the_answer_prints_the_resolved_dates(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "won revenue last quarter", "--as-of", "2026-07-15", "--json")
    body = json.loads(result.stdout)
    assert body["interpretation"]["time_range"] == {
        "phrase": "last quarter", "start": "2026-04-01", "end": "2026-07-01",
        "dates": "2026-04-01 to 2026-06-30",
    }  # fmt: skip
    assert "2026-04-01 to 2026-06-30" in body["answer"]


def test_as_of_changes_what_last_month_means(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    a = json.loads(sophia("ask", "calls last month", "--as-of", "2026-07-15", "--json").stdout)
    b = json.loads(sophia("ask", "calls last month", "--as-of", "2026-05-02", "--json").stdout)
    assert a["interpretation"]["time_range"]["start"] == "2026-06-01"
    assert b["interpretation"]["time_range"]["start"] == "2026-04-01"


@pytest.mark.parametrize("bad", ["2026-02-30", "the day after tomorrow"])
def test_something_that_is_not_a_date_is_an_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        resolve(bad, WED)


AHEAD = [
    ("in december", "2026-12-01", "2027-01-01"),
    ("in july", "2026-07-01", "2026-08-01"),  # the month we are in has not ended
    ("in march", "2027-03-01", "2027-04-01"),
    ("in march 2026", "2026-03-01", "2026-04-01"),  # a year given is kept
    ("q1", "2027-01-01", "2027-04-01"),
    ("q3", "2026-07-01", "2026-10-01"),
    ("last month", "2026-06-01", "2026-07-01"),  # relative phrases do not move
]


@pytest.mark.parametrize(("phrase", "start", "end"), AHEAD, ids=[p[0] for p in AHEAD])
def test_for_what_is_dated_ahead_a_month_or_quarter_without_a_year_is_the_coming_one(
    phrase: str, start: str, end: str
) -> None:
    resolved = resolve(phrase, Calendar(date(2026, 7, 15), ahead=True))
    assert (resolved.start, resolved.end) == (D(start), D(end))
