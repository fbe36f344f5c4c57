"""Measure `sophia ask` against a blind question set: every answer checked against gold SQL.

The question set (questions.yaml) was written from the warehouse contract and the demo data
only, never from the parser. Each answerable question carries a gold SQL over the contract
tables; each out-of-scope question must be refused. `sophia ask QUESTION --json --as-of DAY
--no-cache` runs through the real CLI entry point (in-process, or as a subprocess with
`--subprocess`), so the check sees exactly what a user sees.

Verdicts:
- correct        answered, and the rows match the gold result
- refused        an answerable question refused (exit 3): honest, but a miss
- silent_wrong   answered, and the rows do not match the gold result
- oos_refused    an out-of-scope question refused: correct
- oos_answered   an out-of-scope question answered: counts as silent-wrong
- error          anything else (a crash, another exit code, unreadable JSON): loud, a miss

Matching is tolerant: column names are ignored, extra answer columns are ignored, numbers
agree within 0.5 %, text is compared case-, accent- and `#`-insensitively, dates in the
usual spellings ("2026-03-01", "Mar 2026", "2026-03") are the same day. Rows are compared as
a multiset unless the question says its order matters.

Usage:
    python tests/ask/blind/measure.py --database-url URL [--setup] [--file other.yaml] [-v]

`--setup` first syncs the sandbox company (seed, scale and "today" from the YAML header)
into the database at URL, so the figures are reproducible.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import Any, Literal

import psycopg
import yaml
from pydantic import BaseModel, Field

HERE = Path(__file__).resolve().parent
DEFAULT_FILE = HERE / "questions.yaml"
TOLERANCE = 0.005  # relative: 0.5 %

Verdict = Literal["correct", "refused", "silent_wrong", "oos_refused", "oos_answered", "error"]
MatchMode = Literal["rows", "ordered", "first", "values"]


class Question(BaseModel):
    """One question: answerable (with gold SQL) or out of scope (must be refused)."""

    id: str
    q: str
    gold: str | None = None
    note: str = ""
    # rows: same rows in any order; ordered: same rows in this order; first: the answer's
    # first rows are the gold rows (a ranking may show more); values: every gold value
    # appears somewhere in the answer (comparisons and shares, whose layout is free).
    match: MatchMode = "rows"
    percent: bool = False  # a ratio: 0.25 and 25 (%) are the same answer
    out_of_scope: bool = False


class QuestionSet(BaseModel):
    """The YAML file: the sandbox it was written against, and the questions."""

    as_of: date
    seed: int = 7
    scale: float = 1.0
    questions: list[Question] = Field(default_factory=list)


class Outcome(BaseModel):
    """What happened to one question."""

    id: str
    q: str
    verdict: Verdict
    detail: str = ""


class Summary(BaseModel):
    """The figures of one run."""

    file: str
    answerable: int
    out_of_scope: int
    counts: dict[str, int]
    accuracy: float  # correct / answerable
    silent_wrong: int  # silent_wrong + oos_answered
    outcomes: list[Outcome]


def load(path: Path) -> QuestionSet:
    """Read and validate a question file; ids must be unique and answerable ones need gold."""
    qset = QuestionSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    ids = Counter(q.id for q in qset.questions)
    duplicated = [name for name, n in ids.items() if n > 1]
    if duplicated:
        raise ValueError(f"{path}: duplicated ids {duplicated}")
    missing = [q.id for q in qset.questions if not q.out_of_scope and not q.gold]
    if missing:
        raise ValueError(f"{path}: answerable questions without gold SQL: {missing}")
    return qset


# --- asking -----------------------------------------------------------------------------


def ask_args(question: str, as_of: date) -> list[str]:
    """The CLI arguments of one question."""
    return ["ask", question, "--json", "--as-of", as_of.isoformat(), "--no-cache"]


def ask_in_process(question: str, as_of: date) -> tuple[int, str]:
    """Run `sophia ask` through the CLI's entry point in this process; (exit code, stdout)."""
    from sophia_cli.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run(ask_args(question, as_of))
        except SystemExit as stop:  # a command may still exit the Click way
            code = stop.code if isinstance(stop.code, int) else 1
    return code, out.getvalue()


def ask_subprocess(question: str, as_of: date) -> tuple[int, str]:
    """Run `sophia ask` as a separate process (a pure black box); (exit code, stdout)."""
    sophia = Path(sys.executable).with_name("sophia")
    done = subprocess.run(
        [str(sophia), *ask_args(question, as_of)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )
    return done.returncode, done.stdout


# --- normalising values -----------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_YEAR = re.compile(r"^([a-z]+)\.?\s+(\d{4})$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(?:q([1-4])\s+(\d{4})|(\d{4})[-\s]?q([1-4]))$")
_NUMBER = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_DAY_SPELLINGS = ("%b %d, %Y", "%b %d %Y", "%d %b %Y", "%B %d, %Y", "%d %B %Y", "%a %b %d, %Y")
_NONE_WORDS = {"", "(none)", "none", "null", "unassigned", "(unassigned)", "no owner", "—", "-"}


def _day(value: datetime) -> str:
    """A timestamp as its UTC day when it is a midnight, else as its UTC instant."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
        return value.date().isoformat()
    return value.isoformat(timespec="seconds")


def _text(value: str) -> str:
    """Case, accents, punctuation and spacing do not change a name.

    "#deals-desk" and "deals desk", "HOSPITAL_HEALTH_CARE" and "Hospital & Health Care",
    "Chloé" and "Chloe" compare equal.
    """
    folded = unicodedata.normalize("NFKD", value.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(w for w in re.sub(r"[^0-9a-z]+", " ", folded).split() if w != "and")


def _parse_text(value: str) -> Any:
    """A string cell as a number, a day, None or a normalised name."""
    raw = value.strip()
    lowered = raw.casefold()
    if lowered in _NONE_WORDS:
        return None
    bare = re.sub(r"^(?:usd|eur|gbp)\s*|\s*(?:usd|eur|gbp)$", "", lowered)
    bare = bare.replace("$", "").replace("€", "").replace("£", "").strip()
    scale = 1.0
    if bare.endswith("%"):
        bare = bare[:-1].strip()
    elif bare[-1:] in {"k", "m"} and _NUMBER.match(bare[:-1]):
        scale, bare = (1e3 if bare[-1] == "k" else 1e6), bare[:-1]
    if _NUMBER.match(bare):
        return float(bare.replace(",", "")) * scale
    with contextlib.suppress(ValueError):
        return _day(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    for spelling in _DAY_SPELLINGS:
        with contextlib.suppress(ValueError):
            return datetime.strptime(raw, spelling).date().isoformat()
    if m := _YEAR_MONTH.match(lowered):
        return date(int(m[1]), int(m[2]), 1).isoformat()
    if (m := _MONTH_YEAR.match(lowered)) and m[1] in _MONTHS:
        return date(int(m[2]), _MONTHS[m[1]], 1).isoformat()
    if m := _QUARTER.match(lowered):
        quarter, year = (m[1], m[2]) if m[1] else (m[4], m[3])
        return date(int(year), 3 * int(quarter) - 2, 1).isoformat()
    return _text(raw)


def normal(value: Any) -> Any:
    """One comparable form for a gold cell (Python types) or an answer cell (JSON types)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, datetime):
        return _day(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _parse_text(value)
    return _text(json.dumps(value, default=str))


def same(gold: Any, answer: Any, percent: bool) -> bool:
    """Two normalised cells agree (numbers within the tolerance)."""
    if isinstance(gold, float) and isinstance(answer, float):
        candidates = [answer, answer / 100.0, answer * 100.0] if percent else [answer]
        return any(_close(gold, value) for value in candidates)
    return bool(gold == answer)


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b)) or abs(a - b) < 1e-9


# --- matching ---------------------------------------------------------------------------

Table = list[tuple[Any, ...]]


def _rows_equal(gold: Table, answer: Table, ordered: bool, percent: bool) -> bool:
    """Same rows (cells already projected onto the gold columns)."""
    if len(gold) != len(answer):
        return False
    if ordered:
        return all(_row_same(g, a, percent) for g, a in zip(gold, answer, strict=True))
    left = list(answer)
    for g in gold:
        hit = next((i for i, a in enumerate(left) if _row_same(g, a, percent)), None)
        if hit is None:
            return False
        left.pop(hit)
    return True


def _row_same(gold: tuple[Any, ...], answer: tuple[Any, ...], percent: bool) -> bool:
    return all(same(g, a, percent) for g, a in zip(gold, answer, strict=True))


def _column_candidates(gold: Table, answer: Table, ordered: bool, percent: bool) -> list[list[int]]:
    """For each gold column, the answer columns whose values could be it."""
    width = len(answer[0]) if answer else 0
    result = []
    for j in range(len(gold[0])):
        gold_col = [(row[j],) for row in gold]
        result.append(
            [
                k
                for k in range(width)
                if _rows_equal(gold_col, [(row[k],) for row in answer], ordered, percent)
            ]
        )
    return result


def _mappings(candidates: list[list[int]]) -> Iterator[tuple[int, ...]]:
    """Injective choices of one answer column per gold column."""
    for choice in product(*candidates):
        if len(set(choice)) == len(choice):
            yield choice


def table_matches(gold: Table, answer: Table, mode: MatchMode, percent: bool) -> bool:
    """Does the answer's table hold the gold table (column names and extra columns ignored)?"""
    if mode == "values":
        return _values_contained(gold, answer, percent)
    if mode == "first":
        answer = answer[: len(gold)]
    elif mode == "rows":
        gold, answer = _without_empty_groups(gold), _without_empty_groups(answer)
    if len(gold) != len(answer):
        return False
    if not gold:
        return True
    ordered = mode in {"ordered", "first"}
    candidates = _column_candidates(gold, answer, ordered, percent)
    if any(not c for c in candidates):
        return False
    for choice in _mappings(candidates):
        projected = [tuple(row[k] for k in choice) for row in answer]
        if _rows_equal(gold, projected, ordered, percent):
            return True
    return False


def capped_list_matches(gold: Table, answer: Table, percent: bool) -> bool:
    """A list the answer capped (and says so): every row shown is a distinct gold row."""
    if not answer or len(answer) >= len(gold):
        return False
    width = len(answer[0])
    candidates = [
        [
            k
            for k in range(width)
            if _contained([(r[k],) for r in answer], [(g[j],) for g in gold], percent)
        ]
        for j in range(len(gold[0]))
    ]
    if any(not c for c in candidates):
        return False
    return any(
        _contained([tuple(row[k] for k in choice) for row in answer], gold, percent)
        for choice in _mappings(candidates)
    )


_ADDITIVE = re.compile(r"^\s*SELECT\s+(?:count\(|coalesce\(sum\(|sum\()", re.IGNORECASE)


def breakdown_of_total(question: Question, gold: Table, answer: Table) -> bool:
    """A count or a sum answered with a breakdown whose parts add up to it.

    "won revenue from healthcare companies" answered as the total plus a table by company is
    the right number, not a different question; an average or a ratio cannot be summed.
    """
    if len(answer) < 2 or len(gold) != 1 or len(gold[0]) != 1:
        return False
    total = gold[0][0]
    select_list = re.split(r"\bFROM\b", question.gold or "", maxsplit=1, flags=re.IGNORECASE)[0]
    additive = bool(_ADDITIVE.match(select_list)) and "/" not in select_list
    if not isinstance(total, float) or question.percent or not additive:
        return False
    for k in range(len(answer[0])):
        column = [row[k] for row in answer]
        if all(isinstance(v, float) or v is None for v in column):
            numbers = [v for v in column if isinstance(v, float)]
            if numbers and _close(total, sum(numbers)):
                return True
    return False


def _contained(part: Table, whole: Table, percent: bool = False) -> bool:
    """Each row of `part` matches a distinct row of `whole`."""
    left = list(whole)
    for row in part:
        hit = next((i for i, w in enumerate(left) if _row_same(w, row, percent)), None)
        if hit is None:
            return False
        left.pop(hit)
    return True


def _without_empty_groups(table: Table) -> Table:
    """A breakdown's groups that hold nothing (every number 0 or missing) carry no answer.

    A series filled with zero months, or a channel listed with 0 messages, says the same as
    leaving the group out; a single-value answer (no text key) is kept whatever its value.
    """

    def empty(row: tuple[Any, ...]) -> bool:
        keyed = any(isinstance(cell, str) for cell in row)
        numbers = [cell for cell in row if not isinstance(cell, str)]
        # a row of names only is a record of a list, not an empty group
        return keyed and bool(numbers) and all(cell is None or cell == 0.0 for cell in numbers)

    return [row for row in table if not empty(row)]


def _values_contained(gold: Table, answer: Table, percent: bool) -> bool:
    """Every non-null gold value appears among the answer's cells (each cell used once)."""
    cells = [cell for row in answer for cell in row if cell is not None]
    for value in (cell for row in gold for cell in row if cell is not None):
        hit = next((i for i, c in enumerate(cells) if same(value, c, percent)), None)
        if hit is None:
            return False
        cells.pop(hit)
    return True


# --- one question -----------------------------------------------------------------------


def gold_table(conn: psycopg.Connection[Any], sql: str) -> Table:
    """The gold SQL's rows, normalised."""
    rows = conn.execute(sql).fetchall()  # the gold SQL is the test's own, trusted
    return [tuple(normal(v) for v in row) for row in rows]


def judge(
    question: Question,
    code: int,
    stdout: str,
    gold: Table | None,
) -> Outcome:
    """Classify one answer."""

    def outcome(verdict: Verdict, detail: str = "") -> Outcome:
        return Outcome(id=question.id, q=question.q, verdict=verdict, detail=detail)

    try:
        payload = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        payload = None
    refused = code == 3 or (isinstance(payload, dict) and "error" in payload)
    if refused:
        message = ""
        if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
            message = str(payload["error"].get("message", ""))
        return outcome("oos_refused" if question.out_of_scope else "refused", message)
    if code != 0 or not isinstance(payload, dict):
        return outcome("error", f"exit {code}: {stdout.strip()[:200]}")
    if "rows" not in payload:  # a clarifying question instead of an answer: not a number
        return outcome("oos_refused" if question.out_of_scope else "refused", str(payload)[:200])
    if question.out_of_scope:
        return outcome("oos_answered", str(payload.get("answer", ""))[:200])
    answer = [tuple(normal(v) for v in row) for row in payload.get("rows") or []]
    assert gold is not None
    if table_matches(gold, answer, question.match, question.percent):
        return outcome("correct")
    if breakdown_of_total(question, gold, answer):
        return outcome("correct", "a breakdown whose total is the gold value")
    interpretation = payload.get("interpretation")
    capped = isinstance(interpretation, dict) and bool(interpretation.get("truncated"))
    if capped and question.match == "rows" and capped_list_matches(gold, answer, question.percent):
        return outcome("correct", "a capped list of gold rows")
    return outcome(
        "silent_wrong",
        f"answer {str(payload.get('answer', ''))[:160]!r}; rows {answer[:4]}; gold {gold[:4]}",
    )


def measure(
    qset: QuestionSet, database_url: str, *, file: str = "", subprocess_mode: bool = False
) -> Summary:
    """Ask every question against the warehouse at `database_url` and classify the answers."""
    asker = ask_subprocess if subprocess_mode else ask_in_process
    outcomes = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        for question in qset.questions:
            gold = gold_table(conn, question.gold) if question.gold else None
            code, stdout = asker(question.q, qset.as_of)
            outcomes.append(judge(question, code, stdout, gold))
    counts = Counter(o.verdict for o in outcomes)
    answerable = sum(1 for q in qset.questions if not q.out_of_scope)
    return Summary(
        file=file,
        answerable=answerable,
        out_of_scope=len(qset.questions) - answerable,
        counts={v: counts.get(v, 0) for v in Verdict.__args__},  # type: ignore[attr-defined]
        accuracy=counts["correct"] / answerable if answerable else 0.0,
        silent_wrong=counts["silent_wrong"] + counts["oos_answered"],
        outcomes=outcomes,
    )


def warehouse_mismatch(conn: psycopg.Connection[Any], qset: QuestionSet) -> str | None:
    """Why the warehouse is not the sandbox the set was written against, if it is not.

    The sandbox's history ends at its "today"; a warehouse synced on another day holds other
    names, so its figures would measure the data, not `ask`.
    """
    try:
        row = conn.execute("SELECT max(created_at) FROM hubspot.deals").fetchone()
    except psycopg.Error:
        return "it has no hubspot.deals table (sync the sandbox into it: --setup)"
    latest = row[0] if row else None
    if latest is None:
        return "the warehouse has no HubSpot deals"
    lag = (qset.as_of - latest.astimezone(UTC).date()).days
    if not 0 <= lag <= 7:
        return (
            f"its latest deal was created on {latest.date()}, not in the week before "
            f"{qset.as_of}: it was not synced from the sandbox of that day (use --setup)"
        )
    return None


def build_warehouse(qset: QuestionSet) -> None:
    """Sync the sandbox company the set was written against into DATABASE_URL."""
    from sophia_cli.core.settings import load_settings
    from sophia_cli.core.sync.demo import run_demo
    from sophia_cli.sandbox.api.app import start_sandbox

    with start_sandbox(
        seed=qset.seed, scale=qset.scale, rate_limits="off", today=qset.as_of
    ) as sandbox:
        report = run_demo(
            load_settings(), sandbox.env, sandbox.base_url, seed=qset.seed, scale=qset.scale
        )
    if not report.sync.ok:
        raise RuntimeError("the sandbox sync failed; the figures would mean nothing")


def render(summary: Summary, verbose: bool) -> str:
    """The human report: the figures, then (with -v) every miss."""
    c = summary.counts
    lines = [
        f"{summary.file}: {summary.answerable} answerable + {summary.out_of_scope} out of scope",
        f"accuracy {c['correct']}/{summary.answerable} = {summary.accuracy:.1%}; "
        f"refused {c['refused']}; errors {c['error']}; silent-wrong {c['silent_wrong']}",
        f"out of scope: refused {c['oos_refused']}/{summary.out_of_scope}, "
        f"answered {c['oos_answered']}",
        f"SILENT-WRONG TOTAL: {summary.silent_wrong}",
    ]
    if verbose:
        for o in summary.outcomes:
            if o.verdict not in {"correct", "oos_refused"}:
                lines.append(f"  [{o.verdict}] {o.id} {o.q!r}: {o.detail}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="question YAML")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="the warehouse (default: DATABASE_URL)",
    )
    parser.add_argument("--setup", action="store_true", help="sync the sandbox into it first")
    parser.add_argument("--subprocess", action="store_true", help="run `sophia ask` as a process")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument("--only", default="", help="run only the questions whose id contains this")
    args = parser.parse_args(argv)
    if not args.database_url:
        print("error: no warehouse: pass --database-url or set DATABASE_URL", file=sys.stderr)
        return 2
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SYNC_TEXT_INDEX", "false")
    try:
        qset = load(args.file)
    except (OSError, ValueError) as problem:
        print(f"error: cannot read the question set: {problem}", file=sys.stderr)
        return 2
    if args.only:
        qset.questions = [q for q in qset.questions if args.only in q.id]
    if args.setup:
        try:
            build_warehouse(qset)
        except Exception as problem:  # any failure: the figures would mean nothing
            print(
                f"error: cannot set up the warehouse: {problem} "
                "(give --setup an empty database, or one set up by this version)",
                file=sys.stderr,
            )
            return 2
    try:
        with psycopg.connect(args.database_url) as conn:
            mismatch = warehouse_mismatch(conn, qset)
    except psycopg.OperationalError as down:
        print(f"error: cannot reach the warehouse: {down}".splitlines()[0], file=sys.stderr)
        return 2
    if mismatch:
        print(f"error: not the warehouse of this question set: {mismatch}", file=sys.stderr)
        return 2
    summary = measure(qset, args.database_url, file=str(args.file), subprocess_mode=args.subprocess)
    print(summary.model_dump_json(indent=1) if args.json else render(summary, args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
