"""Benchmark of `sophia search`: quality per mode on the blind set, query latency, indexing.

    .venv/bin/python bench/search.py        # over the warehouse DATABASE_URL points at

Run it after `sophia demo` (seed 7, scale 1.0: the data tests/search/blind/queries.yaml was
written from), with the same DATABASE_URL / SOPHIA_HOME / MILVUS_URI. It re-indexes that
warehouse, so every figure comes from this run:

- quality: recall@10 and nDCG@10 of bm25, dense and hybrid over the blind relevance set, through
  tests/search/blind/relevance.py (the set's own black-box measurement); BM25 is the baseline;
- query latency: p50 / p95 of each mode over the set's queries, as a ratio to BM25's;
- indexing throughput: units per second of a full re-index (read, embed, upsert), beside the
  embedder alone on the same texts (the baseline: how much of indexing is embedding).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "search" / "blind"))

import relevance as measure  # noqa: E402

from sophia_cli.core.search.embed import embedder  # noqa: E402
from sophia_cli.core.search.index import reindex  # noqa: E402
from sophia_cli.core.search.search import search  # noqa: E402
from sophia_cli.core.search.units import read_units  # noqa: E402
from sophia_cli.core.settings import load_settings  # noqa: E402
from sophia_cli.core.sync.sources import SEARCHABLE  # noqa: E402
from sophia_cli.store import postgres  # noqa: E402

MODES = ("bm25", "dense", "hybrid")


def indexing(settings: object) -> None:
    report = reindex(settings)  # type: ignore[arg-type]
    units = sum(s.units for s in report.sources)
    with postgres.connect_url(postgres.resolve_url(settings)) as conn:  # type: ignore[arg-type]
        texts = [
            t for s in SEARCHABLE for u in read_units(conn, s) for t in u.embedding_texts() if t
        ]
    emb = embedder(settings)  # type: ignore[arg-type]
    started = time.perf_counter()
    emb.embed(texts)
    embed_s = time.perf_counter() - started
    print(f"indexing: {units} units in {report.duration_s:.1f} s = {units / report.duration_s:,.0f}"
          f" units/s (read + embed + upsert); embedder alone {len(texts) / embed_s:,.0f} texts/s"
          f" = {embed_s / report.duration_s:.0%} of the re-index")  # fmt: skip


def latency(settings: object, queries: list[measure.Query]) -> None:
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(2):  # the first pass warms the embedder and Milvus' segments
        for mode in MODES:
            timings[mode].clear()
            for query in queries:
                started = time.perf_counter()
                search(settings, query.text, mode=mode, limit=10)  # type: ignore[arg-type]
                timings[mode].append((time.perf_counter() - started) * 1000)
    base = statistics.median(timings["bm25"])
    for mode in MODES:
        ms = sorted(timings[mode])
        p50, p95 = statistics.median(ms), ms[int(len(ms) * 0.95) - 1]
        print(f"latency {mode:<6}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
              f"(p50 {p50 / base:.2f}x bm25)")  # fmt: skip


def quality(queries: list[measure.Query], database_url: str) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    pools = measure.resolve(queries, database_url, now)
    runner = measure.in_process_runner()
    options = measure.supported_options(measure.search_help(runner))
    figures = {}
    for mode in MODES:
        _, results = measure.measure(queries, pools, runner, mode, options, now)
        figures[mode] = (measure.mean([r.recall for r in results]),
                         measure.mean([r.ndcg for r in results]))  # fmt: skip
    base_recall, base_ndcg = figures["bm25"]
    print(f"quality over {len(queries)} blind queries (k=10):")
    for mode, (recall, ndcg) in figures.items():
        print(f"  {mode:<6} recall@10 {recall:.3f} ({recall / base_recall:.2f}x bm25)  "
              f"nDCG@10 {ndcg:.3f} ({ndcg / base_ndcg:.2f}x bm25)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--skip-index", action="store_true", help="measure the index as it is")
    parser.add_argument("--skip-latency", action="store_true", help="quality only")
    args = parser.parse_args()
    settings = load_settings()
    database_url = postgres.resolve_url(settings)
    queries = measure.load_queries(measure.DEFAULT_FILE)
    if not args.skip_index:
        indexing(settings)
    if not args.skip_latency:
        latency(settings, queries)
    quality(queries, database_url)


if __name__ == "__main__":
    main()
