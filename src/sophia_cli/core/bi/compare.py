"""Period comparisons: which earlier period a question compares against, and the words saying so.

"this quarter vs last quarter" names both periods; "QoQ", "YoY", "vs same quarter last year",
"growth" and "vs the previous period" name the second one relative to the first. The earlier
period has the same length as the first, so a month-to-date is compared with the same days of
the month before, never with a whole month.
"""

from __future__ import annotations

import calendar as calendar_lib
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sophia_cli.core.bi import timephrases
from sophia_cli.core.bi.timephrases import TimeRange

UNITS = {"wow": "week", "mom": "month", "qoq": "quarter", "yoy": "year"}
MONTHS = {"month": 1, "quarter": 3, "year": 12}
# Relative markers, each naming how far back the other period lies (None: one period back).
_MARKERS: list[tuple[re.Pattern[str], str | None]] = [
    (re.compile(r"\b(wow|mom|qoq|yoy)\b"), "unit"),
    (re.compile(r"\b(week|month|quarter|year) over \1\b"), "unit"),
    (
        re.compile(
            r"\b(?:vs |versus |compared (?:to|with) |against )?(?:the )?same "
            r"(?:period|week|month|quarter|time|days) (?:last year|a year (?:ago|earlier)"
            r"|the year before|the previous year|the prior year)\b"
        ),
        "year",
    ),  # fmt: skip
    (
        re.compile(
            r"\b(?:vs |versus |compared (?:to|with) |against )?(?:the )?"
            r"(?:previous|prior|preceding) period\b"
        ),
        None,
    ),  # fmt: skip
    (re.compile(r"\b(?:growth|change|delta|increase|decrease|difference)\b"), None),
]
# Words that join two named periods: "this quarter vs last quarter".
JOINERS = {"vs", "versus", "compare", "compared", "to", "with", "against", "and", "from"}


@dataclass
class Comparison:
    """The earlier period and the words of the question that asked for it."""

    previous: TimeRange
    words: list[str]


def _minus_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar_lib.monthrange(year, month)[1]))


def shifted(current: TimeRange, back: str | None, phrase: str) -> TimeRange | None:
    """`current` moved back one `back` unit (None: by its own length); None when open."""
    start, end = current.start, current.end
    if start is None or end is None:
        return None
    if back is None:
        whole = [u for u, n in MONTHS.items() if start.day == 1 and end.day == 1
                 and _minus_months(end, n) == start]  # fmt: skip
        if whole:
            back = whole[0]
    if back in MONTHS:
        months = MONTHS[back]
        return TimeRange(phrase=phrase, start=_minus_months(start, months),
                         end=_minus_months(end, months), grain=current.grain)  # fmt: skip
    days = 7 if back == "week" else (end - start).days
    return TimeRange(phrase=phrase, start=start - timedelta(days=days),
                     end=end - timedelta(days=days), grain=current.grain)  # fmt: skip


def _relative(
    text: str, current: TimeRange | None, cal: timephrases.Calendar, markers: list[int]
) -> tuple[TimeRange | None, Comparison | None, str] | None:
    for index in markers:
        pattern, back = _MARKERS[index]
        found = pattern.search(text)
        if found is None:
            continue
        if back == "unit":
            unit = UNITS.get(found[1], found[1])
            if current is None:
                to_date = {"week": "wtd", "month": "mtd", "quarter": "qtd", "year": "ytd"}[unit]
                current = timephrases.resolve(to_date, cal)
            back = unit
        if current is None:
            return None
        phrase = "the same period a year earlier" if back == "year" else "the period before"
        previous = shifted(current, back, phrase)
        if previous is None:
            return None
        rest = " ".join((text[: found.start()] + " " + text[found.end() :]).split())
        return current, Comparison(previous, found[0].split()), rest
    return None


def _named(
    text: str, current: TimeRange, cal: timephrases.Calendar
) -> tuple[TimeRange, Comparison, str] | None:
    """A second period named outright: "this quarter vs last quarter"."""
    second = timephrases.find(text, cal)
    if second is None:
        return None
    other, (start, end) = second
    left = text[:start].split()
    joined = [w for w in left[-2:] if w in JOINERS]
    asked = [w for w in text.split() if w in ("compare", "compared")]
    if not joined and not asked:
        return None
    rest = [*left[: len(left) - len(joined)], *text[end:].split()]
    rest = [w for w in rest if w not in ("compare", "compared")]
    if other.start is not None and current.start is not None and other.start > current.start:
        current, other = other, current  # the later period is the one compared
    words = [*asked, *joined, *text[start:end].split()]
    return current, Comparison(other, words), " ".join(rest)


def find(
    text: str, current: TimeRange | None, cal: timephrases.Calendar
) -> tuple[TimeRange | None, Comparison | None, str]:
    """(the current period, the comparison, `text` without their words) for a question."""
    found = _relative(text, current, cal, [2, 3])  # "same quarter last year", "prior period"
    if found is None and current is not None:
        found = _named(text, current, cal)
    if found is None:
        found = _relative(text, current, cal, [0, 1, 4])  # QoQ, "year over year", "growth"
    return found if found is not None else (current, None, text)


MARKS = {"vs", "versus", "compared", "against"}


def implied(
    text: str, found: TimeRange, span: tuple[int, int], cal: timephrases.Calendar
) -> tuple[TimeRange, Comparison, str] | None:
    """ "won revenue vs last quarter": the period named after "vs" is the earlier one, and
    the current one is implied ("this quarter"); None when the question does not read so."""
    before = text[: span[0]].split()
    # Only the words right before the period: "deals won vs lost last month" compares two
    # metrics, and its "lost" must not be dropped as if it were part of "vs".
    joined: list[str] = []
    while len(joined) < 2 and len(before) > len(joined):
        if before[-1 - len(joined)] not in MARKS | {"to", "with"}:
            break
        joined.insert(0, before[-1 - len(joined)])
    if not any(w in MARKS for w in joined):
        return None
    unit = re.fullmatch(r"(?:last|previous|prior) (week|month|quarter|year)", found.phrase)
    if unit is None:
        return None
    current = timephrases.resolve(f"this {unit[1]}", cal)
    rest = " ".join([*before[: len(before) - len(joined)], *text[span[1] :].split()])
    return current, Comparison(found, [*joined, *found.phrase.split()]), rest
