"""Compile a structured query to PostgreSQL: joins from the model, buckets, bound values.

Every value that came from a question is a bound parameter; only trusted fragments from the
semantic layer and identifiers generated here are part of the SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sophia_cli.core.bi.semantic import Metric, Model, SemanticLayer
from sophia_cli.core.bi.structured import StructuredQuery
from sophia_cli.core.errors import NotUnderstoodError


@dataclass(frozen=True)
class CompileOptions:
    """Calendar settings that change SQL: the pinned day, week start, fiscal start."""

    as_of: date
    week_start: int = 0
    fiscal_start_month: int = 1
    row_limit: int = 1000


@dataclass
class CompiledQuery:
    """SQL with named placeholders, its parameters and its output column names."""

    sql: str
    params: dict[str, Any]
    columns: list[str]
    dimension_columns: list[str] = field(default_factory=list)
    metric_columns: list[str] = field(default_factory=list)


def bucket_sql(column: str, grain: str, options: CompileOptions) -> str:
    """A date expression truncating `column` to the start of its grain (week/fiscal aware)."""
    if grain == "week" and options.week_start != 0:
        shift = (7 - options.week_start) % 7
        return (
            f"(date_trunc('week', {column} + interval '{shift} days')"
            f" - interval '{shift} days')::date"
        )
    offset = (options.fiscal_start_month - 1) % (3 if grain == "quarter" else 12)
    if grain in ("quarter", "year") and offset:
        return (
            f"(date_trunc('{grain}', {column} - interval '{offset} months')"
            f" + interval '{offset} months')::date"
        )
    return f"date_trunc('{grain}', {column})::date"


def check_compatible(layer: SemanticLayer, query: StructuredQuery) -> list[Metric]:
    """The query's metrics, or NotUnderstoodError when they cannot share one SQL query."""
    unknown = [name for name in query.metrics if name not in layer.metrics]
    if unknown:
        raise NotUnderstoodError(f"not covered: unknown metric {unknown[0]!r}")
    metrics = [layer.metrics[name] for name in query.metrics]
    first = metrics[0]
    for other in metrics[1:]:
        if (other.model, other.time, other.where) != (first.model, first.time, first.where):
            suggestions = [f"{first.label} {_tail(query)}", f"{other.label} {_tail(query)}"]
            raise NotUnderstoodError(
                f"not covered: {first.label} and {other.label} cannot be answered together",
                suggestions=suggestions, hint=_try(suggestions),
            )  # fmt: skip
    model = layer.models[first.model]
    if query.time_by is not None and query.time_by not in model.times:
        raise NotUnderstoodError(f"not covered: {first.label} has no date {query.time_by!r}")
    used = query.dimensions + [f.dimension for f in query.filters]
    for name in used:
        if name not in model.dimensions:
            label = layer.dimensions[name].label if name in layer.dimensions else name
            choices = ", ".join(layer.dimensions[d].label for d in model.dimensions)
            suggestions = [
                f"{first.label} by {layer.dimensions[d].label}" for d in model.dimensions
            ]
            raise NotUnderstoodError(
                f"not covered: {first.label} cannot be broken down by {label}"
                f" (only by {choices})", suggestions=suggestions, hint=_try(suggestions),
            )  # fmt: skip
    return metrics


def _try(suggestions: list[str]) -> str:
    return "Try: " + " · ".join(f'"{s}"' for s in suggestions[:3])


def _tail(query: StructuredQuery) -> str:
    return query.time_range.phrase if query.time_range else ""


def _joins(model: Model, names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in seen:
            seen.append(name)
    return [model.joins[name] for name in seen]


def compile_query(
    layer: SemanticLayer, query: StructuredQuery, options: CompileOptions
) -> CompiledQuery:
    """PostgreSQL for `query` with `%(name)s` placeholders."""
    metrics = check_compatible(layer, query)
    model = layer.models[metrics[0].model]
    params: dict[str, Any] = {}
    select: list[str] = []
    group: list[str] = []
    join_names: list[str] = [name for metric in metrics for name in metric.joins]
    dimension_columns: list[str] = []
    time, _ = layer.time_of(query.metrics[0], query.time_by)
    if query.grain:
        select.append(f"{bucket_sql(time, query.grain, options)} AS {query.grain}")
        dimension_columns.append(query.grain)
    for name in query.dimensions:
        dim = model.dimensions[name]
        join_names += dim.joins
        select.append(f"{dim.expr} AS {name}")
        dimension_columns.append(name)
    group = [str(i + 1) for i in range(len(dimension_columns))]
    for metric_name, metric in zip(query.metrics, metrics, strict=True):
        select.append(f"{metric.expr} AS {metric_name}")
    where = [model.where] if model.where else []
    if metrics[0].where:
        where.append(metrics[0].where)
    if query.order is not None and not query.keep_unassigned:
        # "Who has the most open tasks" is about people: the unassigned bucket is not one.
        where += [f"({model.dimensions[name].expr}) IS NOT NULL" for name in query.dimensions]
    if query.time_range and query.time_range.start:
        where.append(f"{time} >= %(time_start)s")
        params["time_start"] = query.time_range.start
    if query.time_range and query.time_range.end:
        where.append(f"{time} < %(time_end)s")
        params["time_end"] = query.time_range.end
    for index, filter_ in enumerate(query.filters):
        dim = model.dimensions[filter_.dimension]
        join_names += dim.joins
        where.append(f"{dim.expr} = ANY(%(filter_{index})s)")
        params[f"filter_{index}"] = list(filter_.values)
    sql_text = "SELECT " + ",\n       ".join(select)
    sql_text += f"\nFROM {model.table} AS {model.alias}"
    for join in _joins(model, join_names):
        sql_text += f"\n{join}"
    if where:
        sql_text += "\nWHERE " + "\n  AND ".join(f"({clause})" for clause in where)
    if group:
        sql_text += "\nGROUP BY " + ", ".join(group)
    sql_text += "\nORDER BY " + _order(query, dimension_columns)
    limit = min(query.limit, options.row_limit) if query.limit else options.row_limit + 1
    sql_text += f"\nLIMIT {int(limit)}"
    if "{as_of}" in sql_text:
        sql_text = sql_text.replace("{as_of}", "%(as_of)s")
        params["as_of"] = options.as_of
    columns = dimension_columns + list(query.metrics)
    return CompiledQuery(sql_text, params, columns, dimension_columns, list(query.metrics))


def _order(query: StructuredQuery, dimension_columns: list[str]) -> str:
    """Series by time; rankings by the metric, ties broken by the dimensions."""
    if query.grain and query.order is None:
        return ", ".join(dimension_columns) if dimension_columns else "1"
    by = query.order.by if query.order else query.metrics[0]
    direction = "DESC" if (query.order is None or query.order.desc) else "ASC"
    keys = [f"{by} {direction} NULLS LAST"] + [f"{c} NULLS LAST" for c in dimension_columns]
    return ", ".join(keys)
