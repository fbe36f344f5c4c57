"""The answer: one sentence, how the question was understood, the SQL and the rows."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from sophia_cli.core.bi.interpretation import (
    Interpretation,
    MetricName,
    Period,
    SemanticInterpretation,
)
from sophia_cli.core.bi.semantic import Metric, SemanticLayer
from sophia_cli.core.bi.structured import StructuredQuery

FRESHNESS_SQL = """
SELECT source, max(finished_at) FROM sophia.sync_runs
WHERE status = 'success' AND finished_at IS NOT NULL GROUP BY source
"""


class Answer(BaseModel):
    """Exactly what `sophia ask --json` prints and what the HTTP route returns."""

    answer: str
    interpretation: Interpretation
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    source: Literal["rules", "llm"]
    as_of: date
    cached: bool = Field(default=False, exclude=True)
    timings_ms: dict[str, float] = Field(default_factory=dict, exclude=True)


def format_value(value: Any, fmt: str) -> str:
    """A number the way people read it: $1.24M, 62.5%, 34.2 days."""
    if value is None:
        return "n/a"
    if not isinstance(value, int | float):
        return str(value)
    if fmt == "currency" and value < 0:
        return "-" + format_value(-value, fmt)  # -$1.29M, not $-1.29M
    if fmt == "currency":
        size = abs(value)
        if size >= 1_000_000:
            return f"${value / 1_000_000:,.2f}M"
        if size >= 10_000:
            return f"${value / 1000:,.0f}k"
        return f"${value:,.0f}"
    if fmt == "percent":
        return f"{value * 100:.1f}%"
    if fmt == "days":
        return f"{value:,.1f} days"
    if fmt == "minutes":
        return f"{value:,.0f} min"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def is_additive(metric: Metric) -> bool:
    """Counts and sums add up across rows; averages and ratios do not."""
    expr = metric.expr.replace(" ", "").lower()
    return (
        metric.ratio is None
        and expr.startswith(("count(", "coalesce(sum("))
        and "/" not in expr.split(")")[-1]
    )


def _when(layer: SemanticLayer, query: StructuredQuery) -> str:
    """The period, and which date put a row in it: "last month (…, by close date)"."""
    if query.time_range is None:
        return "over all time"
    _, dated_by = layer.time_of(query.metrics[0], query.time_by)
    return f"{query.time_range.phrase} ({query.time_range.describe()}, by {dated_by})"


def _scope(layer: SemanticLayer, query: StructuredQuery) -> str:
    parts = conditions(layer, query)
    return f" for {', '.join(parts)}" if parts else ""


def conditions(layer: SemanticLayer, query: StructuredQuery) -> list[str]:
    """Every condition the answer holds under, in words: nothing is applied silently."""
    model = layer.model_of(query.metrics[0])
    parts = [
        f"{layer.dimensions[f.dimension].label} {'not ' if f.exclude else ''}"
        f"{' or '.join(f.values)}"
        for f in query.filters
    ]
    parts += [model.adjectives[name].label for name in query.adjectives]
    parts += [f"no {layer.dimensions[name].label}" for name in query.missing]
    parts += [
        f"{model.measures[m.measure].label} {m.op} "
        f"{format_value(m.value, model.measures[m.measure].format)}"
        for m in query.measure_filters
    ]
    parts += [
        f"{layer.metrics[m.metric].label} {m.op} {format_value(m.value, 'number')}"
        for m in query.metric_filters
    ]
    return parts


def _signed(value: Any, fmt: str) -> str:
    if not isinstance(value, int | float):
        return "n/a"
    return ("+" if value > 0 else "") + format_value(value, fmt)


def _compared(layer: SemanticLayer, query: StructuredQuery, rows: list[list[Any]]) -> str:
    metric = layer.metrics[query.metrics[0]]
    previous = query.compare_to
    assert previous is not None
    label = metric.label[0].upper() + metric.label[1:]
    head = f"{label}{_scope(layer, query)} {_when(layer, query)}"
    width = len(query.dimensions)
    if not rows:
        return f"No {metric.label}{_scope(layer, query)} in either period."
    cur, prev, change, pct = rows[0][width : width + 4]
    fmt = metric.format
    relative = f" ({_signed(pct, 'percent')})" if pct is not None else " (no earlier value)"
    tail = (f"vs {format_value(prev, fmt)} {previous.phrase} ({previous.describe()}): "
            f"{_signed(change, fmt)}{relative}")  # fmt: skip
    if width == 0:
        return f"{head} was {format_value(cur, fmt)} {tail}."
    first = " / ".join("(none)" if c is None else str(c) for c in rows[0][:width])
    return f"{head}: led by {first} with {format_value(cur, fmt)} {tail}."


def _shared(layer: SemanticLayer, query: StructuredQuery, rows: list[list[Any]]) -> str:
    metric = layer.metrics[query.metrics[0]]
    width = len(query.dimensions)
    if not rows:
        return f"No {metric.label} {_when(layer, query)}."
    part, whole, share = rows[0][width : width + 3]
    fmt = metric.format
    who = " / ".join("(none)" if c is None else str(c) for c in rows[0][:width])
    part_name = ", ".join([who, *conditions(layer, query)] if who else conditions(layer, query))
    part_name = part_name[0].upper() + part_name[1:]
    return (
        f"{part_name} had {format_value(share, 'percent')} of {metric.label} "
        f"{_when(layer, query)}: {format_value(part, fmt)} of {format_value(whole, fmt)}."
    )


def _kept(layer: SemanticLayer, query: StructuredQuery, rows: list[list[Any]]) -> str:
    """ "companies with more than 10 deals": how many groups qualify, and the first."""
    metric = layer.metrics[query.metrics[0]]
    dims = " / ".join(layer.dimensions[d].label for d in query.dimensions)
    head = f"{len(rows):,} × {dims}{_scope(layer, query)} {_when(layer, query)}"
    if not rows:
        return f"No {dims}{_scope(layer, query)} {_when(layer, query)}."
    width = len(query.dimensions)
    first = " / ".join("(none)" if c is None else str(c) for c in rows[0][:width])
    return f"{head}, led by {first} with {format_value(rows[0][width], metric.format)}."


def _listed(
    layer: SemanticLayer, query: StructuredQuery, rows: list[list[Any]], total: int | None
) -> str:
    metric = layer.metrics[query.metrics[0]]
    count = total if total is not None else len(rows)
    which = "latest"
    if query.list_order is not None:
        measure = layer.model_of(query.metrics[0]).measures[query.list_order].label
        top = query.order is None or query.order.desc
        which = f"with the {'highest' if top else 'lowest'} {measure}"
    shown = "" if count == len(rows) else f"; listed: the {len(rows)} {which}"
    return f"{count:,} {metric.label}{_scope(layer, query)} {_when(layer, query)}{shown}."


def sentence(
    layer: SemanticLayer,
    query: StructuredQuery,
    rows: list[list[Any]],
    row_count: int | None = None,
) -> str:
    """The one-line answer (`row_count`: how many rows a list matched in all)."""
    if query.list_rows:
        return _listed(layer, query, rows, row_count)
    if query.compare_to is not None:
        return _compared(layer, query, rows)
    if query.share:
        return _shared(layer, query, rows)
    if query.metric_filters and query.dimensions:
        return _kept(layer, query, rows)
    metric = layer.metrics[query.metrics[0]]
    label = metric.label[0].upper() + metric.label[1:]
    head = f"{label}{_scope(layer, query)} {_when(layer, query)}"
    width = len(query.dimensions) + (1 if query.grain else 0)
    if not rows:
        return f"No {metric.label}{_scope(layer, query)} {_when(layer, query)}."
    values = [row[width] for row in rows]
    if width == 0:
        extra = ""
        for name, value in zip(query.metrics[1:], rows[0][1:], strict=False):
            extra += (
                f", {layer.metrics[name].label} {format_value(value, layer.metrics[name].format)}"
            )
        return f"{head} was {format_value(values[0], metric.format)}{extra}."
    top = rows[0]
    if query.order is None and any(v is not None for v in values):
        # A breakdown may be in a declared order (stages by pipeline): the leader is the largest.
        top = max((row for row in rows if row[width] is not None), key=lambda row: row[width])
    first = " / ".join("(none)" if cell is None else str(cell) for cell in top[:width])
    lead = format_value(top[width], metric.format)
    if query.grain and not query.dimensions and query.order is None:
        numeric = [(v, row[0]) for v, row in zip(values, rows, strict=True) if v is not None]
        peak = max(numeric, key=lambda pair: pair[0]) if numeric else (None, "")
        total = (f"{format_value(sum(v for v, _ in numeric), metric.format)} in total, "
                 if is_additive(metric) else "")  # fmt: skip
        return (f"{head}: {total}{len(rows)} {query.grain}s, highest in {peak[1]} "
                f"with {format_value(peak[0], metric.format)}.")  # fmt: skip
    verb = "lowest" if query.order is not None and not query.order.desc else "led by"
    if is_additive(metric) and not query.limit:
        total = format_value(sum(v for v in values if v is not None), metric.format)
        return f"{head} was {total}, {verb} {first} with {lead}."
    return f"{head}: {verb} {first} with {lead}."


def interpretation(
    layer: SemanticLayer,
    query: StructuredQuery,
    *,
    parser: str,
    freshness: dict[str, str | None],
    truncated: bool,
    notes: list[str],
) -> SemanticInterpretation:
    """How the question was understood, for people and for scripts."""
    _, dated_by = layer.time_of(query.metrics[0], query.time_by)
    return SemanticInterpretation(
        metrics=[MetricName(name=m, label=layer.metrics[m].label) for m in query.metrics],
        dated_by=dated_by, keep_unassigned=query.keep_unassigned, words=query.words,
        dimensions=query.dimensions, filters=query.filters,
        time_range=Period.of(query.time_range) if query.time_range is not None else None,
        compare_to=Period.of(query.compare_to) if query.compare_to is not None else None,
        share=query.share, conditions=conditions(layer, query), listing=query.list_rows,
        missing=query.missing, measure_filters=query.measure_filters,
        metric_filters=query.metric_filters, grain=query.grain, order=query.order,
        limit=query.limit, parser=parser, freshness=freshness, truncated=truncated,
        notes=notes,
    )  # fmt: skip
