"""Our own grammar of time phrases, each resolved to a half-open [start, end) date range.

Anchored to an `as_of` day (default today) with a configurable week start and fiscal-year
start month. Years and quarters in relative phrases ("this quarter", "last year", "YTD",
"Q3 2025", "FY2025") follow the fiscal calendar; a bare year ("2025") is the calendar year.
A fiscal year is named after the calendar year it starts in.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel

from sophia_cli.core.errors import InputError

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_UNIT = r"(day|week|month|quarter|year)s?"
_REL = r"(?:this|current|last|previous|prior|next) (?:week|month|quarter|year)|today|yesterday"


def _period_pattern(bare_month: bool) -> str:
    """Period expressions; a bare month name ("may") only where a preposition precedes it."""
    month = rf"|{_MONTH}(?: \d{{4}})?" if bare_month else rf"|{_MONTH} \d{{4}}"
    return (
        r"(?:\d{4}-\d{2}-\d{2}"
        rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?"
        rf"|\d{{1,2}}(?:st|nd|rd|th)? {_MONTH}(?:,? \d{{4}})?"
        rf"{month}"
        r"|q[1-4](?:,? (?:of )?\d{4})?|\d{4} q[1-4]|fy ?\d{4}|(?:19|20)\d{2}"
        rf"|{_REL})"
    )


_PERIOD = _period_pattern(bare_month=True)
_STANDALONE = _period_pattern(bare_month=False)


@dataclass(frozen=True)
class Calendar:
    """What "today", a week and a fiscal year mean for one question."""

    as_of: date
    week_start: int = 0  # 0 = Monday, 6 = Sunday
    fiscal_start_month: int = 1
    # A month or quarter named without a year is the latest one that started; for what is
    # dated by when it is expected (open deals, open tasks) it is the coming one instead.
    ahead: bool = False


class TimeRange(BaseModel):
    """A resolved phrase: [start, end) with None for an open side, and a default grain."""

    phrase: str
    start: date | None
    end: date | None
    grain: str

    def describe(self) -> str:
        """Inclusive dates for people: `2026-04-01 to 2026-06-30`."""
        if self.start and self.end:
            last = self.end - timedelta(days=1)
            return self.start.isoformat() if last == self.start else f"{self.start} to {last}"
        if self.start:
            return f"from {self.start}"
        if self.end:
            return f"before {self.end}"
        return "all time"


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _period_start(day: date, unit: str, cal: Calendar) -> date:
    if unit == "day":
        return day
    if unit == "week":
        return day - timedelta(days=(day.weekday() - cal.week_start) % 7)
    first = day.replace(day=1)
    if unit == "month":
        return first
    offset = (day.month - cal.fiscal_start_month) % 12
    return add_months(first, -(offset % 3 if unit == "quarter" else offset))


def _next_start(start: date, unit: str) -> date:
    if unit == "day":
        return start + timedelta(days=1)
    if unit == "week":
        return start + timedelta(days=7)
    return add_months(start, {"month": 1, "quarter": 3, "year": 12}[unit])


def _shift(start: date, unit: str, count: int) -> date:
    if unit in ("day", "week"):
        return start + timedelta(days=count * (7 if unit == "week" else 1))
    return add_months(start, count * {"month": 1, "quarter": 3, "year": 12}[unit])


def default_grain(start: date | None, end: date | None) -> str:
    """A readable bucket for a range: days for two weeks, weeks for a quarter, and so on."""
    if start is None or end is None:
        return "month"
    days = (end - start).days
    if days <= 14:
        return "day"
    if days <= 93:
        return "week"
    return "month" if days <= 731 else "quarter"


def _relative(word: str, unit: str, cal: Calendar) -> tuple[date, date]:
    start = _period_start(cal.as_of, unit, cal)
    step = {"last": -1, "previous": -1, "prior": -1, "next": 1}.get(word, 0)
    start = _shift(start, unit, step)
    return start, _next_start(start, unit)


def _year_of(match: str | None, cal: Calendar) -> int:
    return int(match) if match else cal.as_of.year


def _month_period(month: int, year: str | None, cal: Calendar) -> tuple[date, date]:
    if year:
        start = date(int(year), month, 1)
    elif cal.ahead:  # the first such month that has not ended
        start = date(cal.as_of.year, month, 1)
        if add_months(start, 1) <= cal.as_of:
            start = date(cal.as_of.year + 1, month, 1)
    else:  # the latest such month that has started
        start = date(cal.as_of.year, month, 1)
        if start > cal.as_of:
            start = date(cal.as_of.year - 1, month, 1)
    return start, add_months(start, 1)


def _day(text: str, cal: Calendar) -> date | None:
    found = re.fullmatch(rf"({_MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?", text)
    if found:
        month, day, year = MONTHS[found[1]], int(found[2]), found[3]
    else:
        found = re.fullmatch(rf"(\d{{1,2}})(?:st|nd|rd|th)? ({_MONTH})(?:,? (\d{{4}}))?", text)
        if not found:
            return None
        day, month, year = int(found[1]), MONTHS[found[2]], found[3]
    try:
        return date(_year_of(year, cal), month, day)
    except ValueError as exc:
        raise InputError(f"{text!r} is not a date", hint="Use a real day of the month.") from exc


def period(text: str, cal: Calendar) -> tuple[date, date]:
    """The [start, end) a single period expression stands for."""
    text = text.strip()
    if text == "today":
        return cal.as_of, cal.as_of + timedelta(days=1)
    if text == "yesterday":
        return cal.as_of - timedelta(days=1), cal.as_of
    if found := re.fullmatch(
        r"(this|current|last|previous|prior|next) (week|month|quarter|year)", text
    ):
        return _relative(found[1], found[2], cal)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError as exc:
            raise InputError(f"{text!r} is not a date", hint="Use YYYY-MM-DD.") from exc
        return day, day + timedelta(days=1)
    if (day_ := _day(text, cal)) is not None:
        return day_, day_ + timedelta(days=1)
    if found := re.fullmatch(rf"({_MONTH})(?: (\d{{4}}))?", text):
        return _month_period(MONTHS[found[1]], found[2], cal)
    found = re.fullmatch(r"q([1-4])(?:,? (?:of )?(\d{4}))?", text) or re.fullmatch(
        r"(\d{4}) q([1-4])", text
    )
    if found:
        quarter, year = (found[1], found[2]) if text.startswith("q") else (found[2], found[1])
        fiscal_year = _year_of(year, cal)
        if year is None and date(fiscal_year, cal.fiscal_start_month, 1) > cal.as_of:
            fiscal_year -= 1
        start = add_months(date(fiscal_year, cal.fiscal_start_month, 1), 3 * (int(quarter) - 1))
        if year is None and cal.ahead and add_months(start, 3) <= cal.as_of:
            start = add_months(start, 12)  # that quarter is over: the coming one
        return start, add_months(start, 3)
    if found := re.fullmatch(r"fy ?(\d{4})", text):
        start = date(int(found[1]), cal.fiscal_start_month, 1)
        return start, add_months(start, 12)
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 1, 1), date(int(text) + 1, 1, 1)
    raise InputError(
        f"{text!r} is not a time period I know", hint="Try 'last quarter' or 'Q3 2025'."
    )


def _rolling(count: int, unit: str, cal: Calendar) -> tuple[date, date]:
    end = cal.as_of + timedelta(days=1)
    if unit in ("day", "week"):
        return end - timedelta(days=count * (7 if unit == "week" else 1)), end
    months = count * {"month": 1, "quarter": 3, "year": 12}[unit]
    first = add_months(cal.as_of, -months)  # the same day N months back, clamped to its month
    day = min(cal.as_of.day, calendar.monthrange(first.year, first.month)[1])
    return first.replace(day=day) + timedelta(days=1), end


_TO_DATE = {"ytd": "year", "qtd": "quarter", "mtd": "month", "wtd": "week"}

Handler = Callable[[re.Match[str], Calendar], tuple[date | None, date | None]]
_RULES: list[tuple[str, Handler]] = [
    (rf"\bbetween ({_PERIOD}) and ({_PERIOD})\b",
     lambda m, c: (period(m[1], c)[0], period(m[2], c)[1])),
    (rf"\bfrom ({_PERIOD}) (?:to|until|through|thru) ({_PERIOD})\b",
     lambda m, c: (period(m[1], c)[0], period(m[2], c)[1])),
    (rf"\bsince ({_PERIOD})\b", lambda m, c: (period(m[1], c)[0], c.as_of + timedelta(days=1))),
    (rf"\b(?:before|until|prior to) ({_PERIOD})\b", lambda m, c: (None, period(m[1], c)[0])),
    (rf"\bafter ({_PERIOD})\b", lambda m, c: (period(m[1], c)[1], None)),
    (rf"\b(?:past|last|previous|trailing) (\d{{1,4}}) {_UNIT}\b",
     lambda m, c: _rolling(int(m[1]), m[2], c)),
    (r"\b(ytd|qtd|mtd|wtd|(year|quarter|month|week)[ -]to[ -]date)\b",
     lambda m, c: (_period_start(c.as_of, m[2] or _TO_DATE[m[1]], c), c.as_of + timedelta(days=1))),
    (rf"\b(?:in |during |for |on |of )?({_REL})\b", lambda m, c: period(m[1], c)),
    (rf"\b(?:in|during|for|on|of) ({_MONTH}(?: \d{{4}})?)\b", lambda m, c: period(m[1], c)),
    (rf"\b(?:in |during |for |on )?({_STANDALONE})\b",
     lambda m, c: period(m[1], c)),
]  # fmt: skip
_COMPILED = [(re.compile(pattern), handler) for pattern, handler in _RULES]


def find(text: str, cal: Calendar) -> tuple[TimeRange, tuple[int, int]] | None:
    """The first time phrase in lower-cased `text` and where it is, or None."""
    for pattern, handler in _COMPILED:
        found = pattern.search(text)
        if found is None:
            continue
        start, end = handler(found, cal)
        phrase = found[0].strip()
        resolved = TimeRange(phrase=phrase, start=start, end=end, grain=default_grain(start, end))
        return resolved, found.span()
    return None


def resolve(text: str, cal: Calendar) -> TimeRange:
    """Resolve a whole phrase ("last quarter"); InputError when it is not one."""
    found = find(" ".join(text.lower().split()), cal)
    if found is None:
        raise InputError(f"{text!r} is not a time phrase I know", hint="Try 'last quarter'.")
    return found[0]
