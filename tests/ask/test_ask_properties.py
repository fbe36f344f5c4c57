"""Properties of the time grammar, the guard and the parser, over generated inputs."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sophia_cli.core.bi import guard
from sophia_cli.core.bi.parse_rules import RulesParser
from sophia_cli.core.bi.semantic import load_layer
from sophia_cli.core.bi.structured import StructuredQuery
from sophia_cli.core.bi.timephrases import Calendar, resolve
from sophia_cli.core.bi.values import build_index, values_sql
from sophia_cli.core.errors import NotUnderstoodError


@pytest.fixture(scope="module")
def parser(company_url: str) -> RulesParser:
    """The rules parser over the fixture company's names, read once."""
    layer = load_layer()
    with psycopg.connect(company_url) as conn:
        rows = [list(row) for row in conn.execute(values_sql(layer)).fetchall()]  # type: ignore[arg-type]
    return RulesParser(layer, build_index(layer, rows))


calendars = st.builds(
    Calendar,
    as_of=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    week_start=st.sampled_from([0, 6]),
    fiscal_start_month=st.integers(min_value=1, max_value=12),
)
UNITS = ["week", "month", "quarter", "year"]


@settings(max_examples=150, deadline=None)
@given(cal=calendars, unit=st.sampled_from(UNITS))
def test_this_last_and_next_periods_tile_time_around_today(cal: Calendar, unit: str) -> None:
    this, last, nxt = (resolve(f"{w} {unit}", cal) for w in ("this", "last", "next"))
    assert this.start is not None and this.end is not None
    assert this.start <= cal.as_of < this.end
    assert last.end == this.start and nxt.start == this.end
    assert last.start is not None and last.start < last.end  # type: ignore[operator]


@settings(max_examples=150, deadline=None)
@given(cal=calendars, n=st.integers(min_value=1, max_value=400), unit=st.sampled_from(
    ["days", "weeks", "months"]))  # fmt: skip
def test_rolling_windows_end_today_and_never_run_backwards(
    cal: Calendar, n: int, unit: str
) -> None:
    window = resolve(f"past {n} {unit}", cal)
    assert window.end == date.fromordinal(cal.as_of.toordinal() + 1)
    assert window.start is not None and window.start <= cal.as_of


@settings(max_examples=150, deadline=None)
@given(cal=calendars, unit=st.sampled_from(["ytd", "qtd", "mtd", "wtd"]))
def test_to_date_ranges_start_at_their_period_and_include_today(cal: Calendar, unit: str) -> None:
    window = resolve(unit, cal)
    period = {"ytd": "year", "qtd": "quarter", "mtd": "month", "wtd": "week"}[unit]
    full = resolve(f"this {period}", cal)
    assert window.start == full.start and window.start is not None
    assert window.start <= cal.as_of < window.end  # type: ignore[operator]


SAFE = "SELECT id FROM hubspot.deals"
WRITES = [
    "DROP TABLE hubspot.deals", "DELETE FROM hubspot.deals", "UPDATE hubspot.deals SET amount = 0",
    "INSERT INTO hubspot.owners (id) VALUES ('x')", "TRUNCATE hubspot.deals",
    "CREATE TABLE hubspot.x (a int)", "GRANT ALL ON hubspot.deals TO PUBLIC",
]  # fmt: skip
GLUE = st.sampled_from([";", "; ", ";\n", " /* c */ ;", ";-- c\n", "; /* ; */ "])


@settings(max_examples=200, deadline=None)
@given(write=st.sampled_from(WRITES), glue=GLUE, first=st.booleans())
def test_a_second_statement_is_refused_whatever_separates_it(
    write: str, glue: str, first: bool
) -> None:
    sql = f"{write}{glue}{SAFE}" if first else f"{SAFE}{glue}{write}"
    with pytest.raises(guard.GuardError):
        guard.check(sql, {("hubspot", "deals"), ("hubspot", "owners")})


@settings(max_examples=100, deadline=None)
@given(write=st.sampled_from(WRITES[:4]), alias=st.from_regex(r"[a-z]{1,8}", fullmatch=True))
def test_writes_hidden_in_a_cte_are_refused(write: str, alias: str) -> None:
    returning = write + " RETURNING 1" if not write.startswith("TRUNCATE") else write
    sql = f"WITH {alias}_cte AS ({returning}) SELECT * FROM {alias}_cte"
    with pytest.raises(guard.GuardError):
        guard.check(sql, {("hubspot", "deals"), ("hubspot", "owners")})


BASE_QUESTIONS = [
    "won revenue last quarter",
    "top 3 owners by deals won this year",
    "open tasks by project",
    "messages in #sales last week",
    "average call length by direction",
    "how many deals did we close last month",
    "pipeline value by pipeline",
]
# Content words the semantic layer does not know; each could change what is being asked.
UNKNOWN = ["refunded", "european", "churned", "cancelled", "renewal", "partner", "expired",
           "discounted", "weekend", "hours", "euros", "marketing", "enterprise", "excluding",
           "not", "without", "average", "median", "cumulative", "inbound", "sam"]  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(
    question=st.sampled_from(BASE_QUESTIONS),
    word=st.sampled_from(UNKNOWN),
    where=st.floats(min_value=0, max_value=1),
)
def test_an_extra_word_is_refused_or_shows_in_the_interpretation(
    parser: RulesParser, question: str, word: str, where: float
) -> None:
    words = question.split()
    words.insert(round(where * len(words)), word)
    asked = " ".join(words)
    try:
        parsed = parser.parse(asked, Calendar(date(2026, 7, 15)))
    except NotUnderstoodError:
        return
    assert isinstance(parsed, StructuredQuery)
    used = [w for part in parsed.words.values() for w in part]
    assert word in used, (asked, parsed.words)
