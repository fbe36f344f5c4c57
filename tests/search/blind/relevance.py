"""Measure `sophia search` against a blind relevance set: recall@10 and nDCG@10 per mode.

    DATABASE_URL=... REDIS_URL=... SOPHIA_HOME=... python tests/search/blind/relevance.py \
        [--file queries.yaml] [--mode bm25 --mode hybrid] [--per-query] [--resolve] [--json]

The search is a black box: each query goes through the `sophia search TEXT --json --limit 10`
command line (a subprocess by default; `--in-process` calls the same entry point in this
process, which keeps the embedded vector store open between queries). Nothing here imports
the search code.

How the set names documents (see queries.yaml): a query lists judgement rules, each a hand-made
decision "documents of this source whose text is this sentence (in this channel, call, project,
said by this side) answer the query with grade g". The rules are resolved to document ids with
SQL over the warehouse the search reads (DATABASE_URL), at measure time, because the demo data
repeats its sentences (11,520 Gong turns use 22 sentences) and the sandbox anchors Slack `ts` on
the day it runs, so a literal list of Slack ids would go stale overnight. Gong ids
(call id + start_ms) and Asana gids are stable; rules may also list them explicitly (`ids:`).

How a hit maps to a document: the hit's `id` field, `SOURCE:KEY...`:
  - `gong:CALL_ID:START_MS`  (any parts between are ignored)  -> one transcript turn
  - `slack:CHANNEL_ID:TS`                                       -> one message (a thread parent
                                                                   stands for its thread root)
  - `asana:GID`                                                 -> one task
If a hit has no such id, the fields `call_id`+`start_ms`, `channel_id`+`ts` or `gid` are tried.
A hit that maps to nothing counts as not relevant and is reported as `unmapped` (never silently
dropped). A document returned twice counts once (the second copy is a wasted slot).

Metrics (one query, k = 10, graded relevance g in {1, 2}):
  - recall@10 = relevant documents in the top 10 / min(10, relevant documents in the pool)
    (capped recall, as BEIR's R_cap: pools here hold hundreds of equal documents);
  - nDCG@10 with linear gain g and log2(rank + 1) discount, ideal = the pool's best 10 grades.
Means are over the queries; a query whose pool is empty is an error in the set, not a zero.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_FILE = HERE / "queries.yaml"
K = 10
Source = Literal["gong", "slack", "asana"]
Runner = Callable[[list[str]], str]


@dataclass(frozen=True)
class Rule:
    """One judgement: which documents count, and how much."""

    grade: int
    source: Source
    match: str | None = None  # POSIX regex over the text (gong turn, slack message, asana name)
    speaker: str | None = None  # gong: external | internal (Gong's participant affiliation)
    call: str | None = None  # gong: regex over the call title
    channel: str | None = None  # slack: channel name
    project: str | None = None  # asana: project name
    ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Query:
    id: str
    text: str
    rules: tuple[Rule, ...]
    window: dict[str, Any] | None = None
    options: tuple[str, ...] = ()  # CLI options a user would type with this query
    implies: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Dataset:
    """The demo a set was written from: the sandbox's seed, scale and anchor day."""

    seed: int
    scale: float
    today: date  # the sandbox draws its company from the anchor day too: pin it

    @property
    def anchor(self) -> datetime:
        return datetime(self.today.year, self.today.month, self.today.day, tzinfo=UTC)


def load_dataset(path: Path) -> Dataset:
    raw = yaml.safe_load(path.read_text())["dataset"]
    return Dataset(seed=int(raw["seed"]), scale=float(raw["scale"]), today=raw["today"])


def sync_demo(dataset: Dataset, database_url: str, redis_url: str, home: Path) -> None:
    """Fill a warehouse and its text index from the sandbox anchored on the set's day.

    `sophia demo` anchors on the real today, and the sandbox's names (companies in Slack,
    Asana projects) change with the anchor, so the set is measured on its own day's company.
    """
    from sophia_cli.core.settings import load_settings
    from sophia_cli.core.sync.demo import run_demo
    from sophia_cli.sandbox.api.app import start_sandbox

    settings = load_settings(
        database_url=database_url, redis_url=redis_url, redis_key_prefix="sophia-blind:",
        sophia_home=home,
    )  # fmt: skip
    with start_sandbox(
        seed=dataset.seed, scale=dataset.scale, rate_limits="off", today=dataset.today
    ) as sandbox:
        report = run_demo(
            settings, sandbox.env, sandbox.base_url, seed=dataset.seed, scale=dataset.scale
        )
    if not report.sync.ok:
        raise RuntimeError("the demo sync failed; see `sophia sync status`")


def load_queries(path: Path) -> list[Query]:
    """Read a relevance YAML (see queries.yaml for the shape)."""
    doc = yaml.safe_load(path.read_text())
    queries = []
    for raw in doc["queries"]:
        rules = tuple(
            Rule(
                grade=int(r["grade"]),
                source=r["source"],
                match=r.get("match"),
                speaker=r.get("speaker"),
                call=r.get("call"),
                channel=r.get("channel"),
                project=r.get("project"),
                ids=tuple(str(i) for i in r.get("ids", ())),
            )
            for r in raw["relevant"]
        )
        queries.append(
            Query(
                id=str(raw["id"]),
                text=str(raw["query"]),
                rules=rules,
                window=raw.get("window"),
                options=tuple(str(o) for o in raw.get("options", ())),
                implies=dict(raw.get("implies") or {}),
            )
        )
    ids = [q.id for q in queries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SystemExit(f"{path}: duplicate query ids {duplicates}")
    return queries


def window_bounds(window: dict[str, Any] | None, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) a query's time phrase means, in UTC, relative to `now`."""
    if not window:
        return datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
    if "last_days" in window:
        return now - timedelta(days=int(window["last_days"])), now + timedelta(days=1)
    if window.get("month") == "last":
        first_this = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        first_last = (first_this - timedelta(days=1)).replace(day=1)
        return first_last, first_this
    raise SystemExit(f"unknown window {window!r}: use last_days: N or month: last")


def _rule_sql(rule: Rule) -> tuple[str, list[Any]]:
    """SQL returning (doc_id) for one rule, with its parameters; time bounds come last."""
    params: list[Any] = []
    where: list[str] = []
    if rule.source == "gong":
        sql = (
            "SELECT 'gong:' || t.call_id || ':' || t.start_ms FROM gong.transcripts t "
            "JOIN gong.calls c ON c.id = t.call_id"
        )
        if rule.match:
            where.append("t.text ~ %s")
            params.append(rule.match)
        if rule.speaker:
            where.append(
                "EXISTS (SELECT 1 FROM gong.call_participants p WHERE p.call_id = t.call_id "
                "AND p.speaker_id = t.speaker_id AND lower(p.affiliation) = %s)"
            )
            params.append(rule.speaker.lower())
        if rule.call:
            where.append("c.title ~ %s")
            params.append(rule.call)
        if rule.ids:
            where.append("'gong:' || t.call_id || ':' || t.start_ms = ANY(%s)")
            params.append(list(rule.ids))
        where.append("c.started_at >= %s AND c.started_at < %s")
    elif rule.source == "slack":
        sql = (
            "SELECT 'slack:' || m.channel_id || ':' || m.ts FROM slack.messages m "
            "JOIN slack.channels ch ON ch.id = m.channel_id"
        )
        where.append("NOT m.deleted")
        if rule.match:
            where.append("m.text ~ %s")
            params.append(rule.match)
        if rule.channel:
            where.append("ch.name = %s")
            params.append(rule.channel)
        if rule.ids:
            where.append("'slack:' || m.channel_id || ':' || m.ts = ANY(%s)")
            params.append(list(rule.ids))
        where.append("m.posted_at >= %s AND m.posted_at < %s")
    elif rule.source == "asana":
        sql = (
            "SELECT 'asana:' || t.gid FROM asana.tasks t "
            "LEFT JOIN asana.projects p ON p.gid = t.project_gid"
        )
        where.append("NOT t.deleted")
        if rule.match:
            where.append("t.name ~ %s")
            params.append(rule.match)
        if rule.project:
            where.append("p.name = %s")
            params.append(rule.project)
        if rule.ids:
            where.append("'asana:' || t.gid = ANY(%s)")
            params.append(list(rule.ids))
        where.append("t.created_at >= %s AND t.created_at < %s")
    else:
        raise SystemExit(f"unknown source {rule.source!r} in a rule")
    return f"{sql} WHERE {' AND '.join(where)}", params


def resolve(
    queries: Sequence[Query], database_url: str, now: datetime
) -> dict[str, dict[str, int]]:
    """Each query's pool: document id -> grade (the highest rule that names it)."""
    import psycopg

    pools: dict[str, dict[str, int]] = {}
    with psycopg.connect(database_url) as conn:
        for query in queries:
            start, end = window_bounds(query.window, now)
            pool: dict[str, int] = {}
            for rule in query.rules:
                sql, params = _rule_sql(rule)
                for (doc,) in conn.execute(sql, [*params, start, end]).fetchall():
                    pool[doc] = max(pool.get(doc, 0), rule.grade)
            pools[query.id] = pool
    return pools


def hit_key(hit: dict[str, Any]) -> str | None:
    """The document a hit names, in the ids the pools use (None when it names none)."""
    raw = str(hit.get("id") or "")
    parts = raw.split(":")
    source = parts[0] if len(parts) >= 2 else str(hit.get("source") or "")
    if source == "gong" and len(parts) >= 3:
        return f"gong:{parts[1]}:{parts[-1]}"
    if source == "slack" and len(parts) >= 3:
        return f"slack:{parts[1]}:{parts[2]}"
    if source == "asana" and len(parts) >= 2:
        return f"asana:{parts[-1]}"
    if hit.get("call_id") is not None and hit.get("start_ms") is not None:
        return f"gong:{hit['call_id']}:{hit['start_ms']}"
    if hit.get("channel_id") is not None and hit.get("ts") is not None:
        return f"slack:{hit['channel_id']}:{hit['ts']}"
    if hit.get("gid") is not None:
        return f"asana:{hit['gid']}"
    return None


def recall_at_k(ranked: Sequence[str | None], pool: dict[str, int], k: int = K) -> float:
    found = {doc for doc in ranked[:k] if doc is not None and pool.get(doc, 0) > 0}
    return len(found) / min(k, len(pool))


def ndcg_at_k(ranked: Sequence[str | None], pool: dict[str, int], k: int = K) -> float:
    seen: set[str] = set()
    dcg = 0.0
    for rank, doc in enumerate(ranked[:k], start=1):
        if doc is None or doc in seen:
            continue
        seen.add(doc)
        dcg += pool.get(doc, 0) / math.log2(rank + 1)
    ideal = sorted(pool.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg


def subprocess_runner() -> Runner:
    """Run the installed `sophia` next to this interpreter (else the one on PATH)."""
    beside = Path(sys.executable).parent / "sophia"
    exe = str(beside) if beside.exists() else "sophia"

    def run(args: list[str]) -> str:
        done = subprocess.run([exe, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"sophia {' '.join(args)} exited {done.returncode}: "
                               f"{done.stderr.strip()[-400:]}")  # fmt: skip
        return done.stdout

    return run


def in_process_runner() -> Runner:
    """Call the CLI's own entry point in this process (same argv, same JSON on stdout)."""
    from sophia_cli.cli.main import run as sophia_run

    def run(args: list[str]) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = sophia_run(list(args))
        if code != 0:
            raise RuntimeError(f"sophia {' '.join(args)} exited {code}: {out.getvalue()[-400:]}")
        return out.getvalue()

    return run


def search_help(runner: Runner) -> str:
    return runner(["search", "--help"])


def supported_options(help_text: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z-]*)", help_text))


def modes_to_run(requested: Sequence[str], options: set[str]) -> list[str | None]:
    """The `--mode` values to measure; [None] (the default ranking) when there is no --mode."""
    if "--mode" not in options:
        return [None]
    return list(requested) or ["bm25", "dense", "hybrid"]


@dataclass
class QueryResult:
    id: str
    query: str
    pool: int
    recall: float
    ndcg: float
    unmapped: int
    dropped_options: list[str]
    top: list[tuple[str | None, int]]


def _option_value(value: str, query: Query, now: datetime) -> str:
    """An option as typed; `@window` stands for the first day of the query's window."""
    if value != "@window":
        return value
    return window_bounds(query.window, now)[0].date().isoformat()


def measure(
    queries: Sequence[Query],
    pools: dict[str, dict[str, int]],
    runner: Runner,
    mode: str | None,
    options: set[str],
    now: datetime,
) -> tuple[str, list[QueryResult]]:
    """Run every query in one mode; returns the mode the search says it used, and results."""
    results: list[QueryResult] = []
    reported_mode = mode or "default"
    for query in queries:
        args = ["search", query.text, "--json", "--limit", str(K)]
        if mode is not None:
            args += ["--mode", mode]
        dropped: list[str] = []
        extra = [_option_value(o, query, now) for o in query.options]
        while extra:
            name = extra.pop(0)
            value = extra.pop(0) if extra and not extra[0].startswith("--") else None
            if name in options:
                args += [name] + ([value] if value is not None else [])
            else:
                dropped.append(name)
        body = json.loads(runner(args))
        if mode is None and body.get("mode"):
            reported_mode = f"default ({body['mode']})"
        keys = [hit_key(h) for h in body.get("hits", [])]
        pool = pools[query.id]
        results.append(
            QueryResult(
                id=query.id,
                query=query.text,
                pool=len(pool),
                recall=recall_at_k(keys, pool),
                ndcg=ndcg_at_k(keys, pool),
                unmapped=sum(1 for k in keys if k is None),
                dropped_options=dropped,
                top=[(k, pool.get(k, 0) if k else 0) for k in keys[:K]],
            )
        )
    return reported_mode, results


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def groups_of(query: Query) -> list[str]:
    """The kinds of need a query stands for, so a mean does not hide the hard ones."""
    groups = []
    if query.implies.get("speakers") == "external":
        groups.append("customer-voice")
    if query.window:
        groups.append("time-window")
    if query.options:
        groups.append("typed-filter")
    return groups or ["plain"]


def group_figures(queries: Sequence[Query], results: Sequence[QueryResult]) -> dict[str, Any]:
    by_id = {r.id: r for r in results}
    names = sorted({g for q in queries for g in groups_of(q)})
    figures = {}
    for name in names:
        members = [by_id[q.id] for q in queries if name in groups_of(q)]
        figures[name] = {
            "queries": len(members),
            "recall@10": round(mean([r.recall for r in members]), 4),
            "ndcg@10": round(mean([r.ndcg for r in members]), 4),
        }
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE, help="relevance YAML")
    parser.add_argument("--mode", action="append", default=[], help="bm25, dense, hybrid")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--in-process", action="store_true", help="no subprocess per query")
    parser.add_argument("--per-query", action="store_true", help="print each query's figures")
    parser.add_argument("--resolve", action="store_true", help="print each pool, then stop")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=None,
        help="the instant the set's time windows count from (ISO; default: the set's day)",
    )
    parser.add_argument(
        "--sync-demo",
        action="store_true",
        help="first fill DATABASE_URL (and the index in SOPHIA_HOME) from the set's demo day",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        print("DATABASE_URL is not set: point it at the warehouse the search reads.",
              file=sys.stderr)  # fmt: skip
        return 2

    queries = load_queries(args.file)
    dataset = load_dataset(args.file)
    now = args.now.replace(tzinfo=args.now.tzinfo or UTC) if args.now else dataset.anchor
    if args.sync_demo:
        home = Path(os.environ.get("SOPHIA_HOME") or Path.home() / ".sophia")
        sync_demo(dataset, args.database_url, os.environ.get("REDIS_URL", ""), home)
    pools = resolve(queries, args.database_url, now)
    empty = [q.id for q in queries if not pools[q.id]]
    if args.resolve:
        for q in queries:
            grades = sorted(pools[q.id].values())
            print(f"{q.id}\t{len(grades)} docs (grade 2: {grades.count(2)})\t{q.text}")
            for doc, grade in sorted(pools[q.id].items())[:5]:
                print(f"    {grade} {doc}")
        return 1 if empty else 0
    if empty:
        print(f"queries with no relevant document in this warehouse: {empty}", file=sys.stderr)
        return 2

    runner = in_process_runner() if args.in_process else subprocess_runner()
    options = supported_options(search_help(runner))
    report: dict[str, Any] = {"file": str(args.file), "queries": len(queries), "modes": {}}
    for mode in modes_to_run(args.mode, options):
        label, results = measure(queries, pools, runner, mode, options, now)
        report["modes"][label] = {
            "recall@10": round(mean([r.recall for r in results]), 4),
            "ndcg@10": round(mean([r.ndcg for r in results]), 4),
            "unmapped_hits": sum(r.unmapped for r in results),
            "dropped_options": sorted({o for r in results for o in r.dropped_options}),
            "groups": group_figures(queries, results),
            "per_query": [
                {
                    "id": r.id,
                    "query": r.query,
                    "pool": r.pool,
                    "recall@10": round(r.recall, 4),
                    "ndcg@10": round(r.ndcg, 4),
                    "unmapped": r.unmapped,
                    "top_grades": [g for _, g in r.top],
                }  # fmt: skip
                for r in results
            ],
        }
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{args.file.name}: {len(queries)} queries, k={K}")
    print(f"{'mode':<22} {'recall@10':>10} {'nDCG@10':>10} {'unmapped':>9}")
    for label, figures in report["modes"].items():
        print(f"{label:<22} {figures['recall@10']:>10.3f} {figures['ndcg@10']:>10.3f} "
              f"{figures['unmapped_hits']:>9}")  # fmt: skip
        for name, group in figures["groups"].items():
            print(f"    {name + ' (' + str(group['queries']) + ')':<18} "
                  f"{group['recall@10']:>10.3f} {group['ndcg@10']:>10.3f}")  # fmt: skip
        if figures["dropped_options"]:
            print(f"    options the search lacks (queries ran without them): "
                  f"{', '.join(figures['dropped_options'])}")  # fmt: skip
        if args.per_query:
            for r in figures["per_query"]:
                print(f"    {r['id']:<26} R {r['recall@10']:.2f}  nDCG {r['ndcg@10']:.2f}  "
                      f"pool {r['pool']:>5}  {''.join(str(g) for g in r['top_grades'])}  "
                      f"{r['query']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
