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
from sophia_cli.core.bi.timephrases import TimeRange
from sophia_cli.core.errors import NotUnderstoodError

LIST_ROWS = 50


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
    # A list answer's rows are capped; this counts all the rows that matched.
    count_sql: str | None = None
    # A ratio across sources: the keys (owners' emails) one side cannot match in the other.
    unmatched_sql: str | None = None


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
    for measure_filter in query.measure_filters:
        if measure_filter.measure not in model.measures:
            raise NotUnderstoodError(
                f"not covered: {first.label} has no {measure_filter.measure} to compare"
            )
    for metric_filter in query.metric_filters:
        kept = layer.metrics.get(metric_filter.metric)
        if kept is None or (kept.model, kept.where) != (first.model, first.where):
            raise NotUnderstoodError(
                f"not covered: {first.label} cannot be filtered by {metric_filter.metric}"
            )
    for adjective in query.adjectives:
        if adjective not in model.adjectives:
            raise NotUnderstoodError(f"not covered: {first.label} cannot be {adjective}")
    used = query.dimensions + [f.dimension for f in query.filters] + query.missing
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


@dataclass
class _Select:
    """One aggregate SELECT (no ORDER BY or LIMIT) and what it needs."""

    sql: str
    params: dict[str, Any]
    dimension_columns: list[str]


def _where(
    layer: SemanticLayer, query: StructuredQuery, options: CompileOptions,
    time_range: TimeRange | None, prefix: str, *, with_filters: bool = True,
) -> tuple[list[str], dict[str, Any], list[str]]:  # fmt: skip
    """Conditions, their parameters and the joins they need, for one period."""
    metric = layer.metrics[query.metrics[0]]
    model = layer.models[metric.model]
    params: dict[str, Any] = {}
    joins: list[str] = []
    where = [model.where] if model.where else []
    if metric.where:
        where.append(metric.where)
    counts_groups = query.order is not None or bool(query.metric_filters)
    if counts_groups and not query.keep_unassigned and with_filters:
        # "Who has the most open tasks" is about people: the unassigned bucket is not one;
        # nor is it one of the "companies with more than 10 deals" being counted.
        where += [f"({model.dimensions[name].expr}) IS NOT NULL" for name in query.dimensions]
    time, _ = layer.time_of(query.metrics[0], query.time_by)
    if time_range and time_range.start:
        where.append(f"{time} >= %({prefix}time_start)s")
        params[f"{prefix}time_start"] = time_range.start
    if time_range and time_range.end:
        where.append(f"{time} < %({prefix}time_end)s")
        params[f"{prefix}time_end"] = time_range.end
    if not with_filters:
        return where, params, joins
    for index, filter_ in enumerate(query.filters):
        dim = model.dimensions[filter_.dimension]
        joins += dim.joins
        test = f"{dim.expr} = ANY(%({prefix}filter_{index})s)"
        # "Excluding Acme" keeps the deals that have no company at all.
        where.append(f"NOT coalesce({test}, false)" if filter_.exclude else test)
        params[f"{prefix}filter_{index}"] = list(filter_.values)
    for name in query.adjectives:
        adjective = model.adjectives[name]
        joins += adjective.joins
        where.append(adjective.where)
    for name in query.missing:
        dim = model.dimensions[name]
        joins += dim.joins
        where.append(f"({dim.expr}) IS NULL")
    for index, measure_filter in enumerate(query.measure_filters):
        measure = model.measures[measure_filter.measure]
        where.append(f"({measure.expr}) {measure_filter.op} %({prefix}measure_{index})s")
        params[f"{prefix}measure_{index}"] = measure_filter.value
    return where, params, joins


def _select(
    layer: SemanticLayer, query: StructuredQuery, options: CompileOptions,
    time_range: TimeRange | None, prefix: str = "", *, with_filters: bool = True,
) -> _Select:  # fmt: skip
    metrics = [layer.metrics[name] for name in query.metrics]
    model = layer.models[metrics[0].model]
    select: list[str] = []
    join_names: list[str] = [name for metric in metrics for name in metric.joins]
    dimension_columns: list[str] = []
    time, _ = layer.time_of(query.metrics[0], query.time_by)
    if query.grain:
        select.append(f"{bucket_sql(time, query.grain, options)} AS {query.grain}")
        dimension_columns.append(query.grain)
    for name in query.dimensions if with_filters else []:
        dim = model.dimensions[name]
        join_names += dim.joins
        select.append(f"{dim.expr} AS {name}")
        dimension_columns.append(name)
    for metric_name, metric in zip(query.metrics, metrics, strict=True):
        select.append(f"{metric.expr} AS {metric_name}")
    where, params, joins = _where(
        layer, query, options, time_range, prefix, with_filters=with_filters
    )
    join_names += joins
    sql_text = "SELECT " + ",\n       ".join(select)
    sql_text += f"\nFROM {model.table} AS {model.alias}"
    for join in _joins(model, join_names):
        sql_text += f"\n{join}"
    if where:
        sql_text += "\nWHERE " + "\n  AND ".join(f"({clause})" for clause in where)
    if dimension_columns:
        sql_text += "\nGROUP BY " + ", ".join(str(i + 1) for i in range(len(dimension_columns)))
    having = []
    for index, metric_filter in enumerate(query.metric_filters if with_filters else []):
        expr = layer.metrics[metric_filter.metric].expr
        having.append(f"({expr}) {metric_filter.op} %({prefix}having_{index})s")
        params[f"{prefix}having_{index}"] = metric_filter.value
    if having:
        sql_text += "\nHAVING " + " AND ".join(having)
    return _Select(sql_text, params, dimension_columns)


def _finish(sql_text: str, params: dict[str, Any], options: CompileOptions) -> str:
    if "{as_of}" in sql_text:
        sql_text = sql_text.replace("{as_of}", "%(as_of)s")
        params["as_of"] = options.as_of
    return sql_text


def _limit(query: StructuredQuery, options: CompileOptions) -> str:
    limit = min(query.limit, options.row_limit) if query.limit else options.row_limit + 1
    return f"\nLIMIT {int(limit)}"


def compile_query(
    layer: SemanticLayer, query: StructuredQuery, options: CompileOptions
) -> CompiledQuery:
    """PostgreSQL for `query` with `%(name)s` placeholders."""
    check_compatible(layer, query)
    if layer.metrics[query.metrics[0]].ratio is not None:
        return _compile_ratio(layer, query, options)
    if query.list_rows:
        return _compile_list(layer, query, options)
    if query.compare_to is not None or query.share:
        return _compile_pair(layer, query, options)
    one = _select(layer, query, options, query.time_range)
    sql_text = (
        one.sql + "\nORDER BY " + _order(query, one.dimension_columns, _display_order(layer, query))
    )
    sql_text = _finish(sql_text + _limit(query, options), one.params, options)
    columns = one.dimension_columns + list(query.metrics)
    return CompiledQuery(sql_text, one.params, columns, one.dimension_columns, list(query.metrics))


def _compile_pair(
    layer: SemanticLayer, query: StructuredQuery, options: CompileOptions
) -> CompiledQuery:
    """Two aggregates side by side: this period and the earlier one, or the part and the
    whole; then their difference and percentage, or the share."""
    if query.grain:
        raise NotUnderstoodError(
            "not covered: a comparison of two periods is answered per period, not as a series",
            hint="Drop 'by month' (or ask for the series of each period separately).",
        )
    first = _select(layer, query, options, query.time_range, "a_")
    if query.share:
        second = _select(layer, query, options, query.time_range, "b_", with_filters=False)
    else:
        second = _select(layer, query, options, query.compare_to, "b_")
    dims = first.dimension_columns
    keys = [f"coalesce(a.{d}, b.{d}) AS {d}" for d in dims]
    values: list[str] = []
    metric_columns: list[str] = []
    for name in query.metrics:
        if query.share:
            values += [f"a.{name} AS {name}", f"b.{name} AS {name}_total",
                       f"a.{name}::numeric / nullif(b.{name}, 0) AS {name}_share"]  # fmt: skip
            metric_columns += [name, f"{name}_total", f"{name}_share"]
        else:
            values += [f"a.{name} AS {name}", f"b.{name} AS {name}_previous",
                       f"a.{name} - b.{name} AS {name}_change",
                       f"(a.{name} - b.{name})::numeric / nullif(abs(b.{name}), 0)"
                       f" AS {name}_change_pct"]  # fmt: skip
            metric_columns += [name, f"{name}_previous", f"{name}_change", f"{name}_change_pct"]
    if query.share or not dims:
        keys = [f"a.{d} AS {d}" for d in dims]
        source = "FROM a CROSS JOIN b"  # the whole (or a scalar period) sits beside each row
    else:
        # Keys compared as text with a marker for "none": a FULL JOIN needs plain equality.
        match = " AND ".join(
            f"coalesce(a.{d}::text, '\x01') = coalesce(b.{d}::text, '\x01')" for d in dims
        )
        source = f"FROM a FULL JOIN b ON {match}"
    sql_text = (f"WITH a AS ({first.sql}),\nb AS ({second.sql})\nSELECT "
                + ",\n       ".join(keys + values) + f"\n{source}")  # fmt: skip
    direction = "ASC" if query.order is not None and not query.order.desc else "DESC"
    sql_text += f"\nORDER BY {query.metrics[0]} {direction} NULLS LAST"
    sql_text += "".join(f", {d} NULLS LAST" for d in dims)
    params = {**first.params, **second.params}
    sql_text = _finish(sql_text + _limit(query, options), params, options)
    return CompiledQuery(sql_text, params, dims + metric_columns, dims, metric_columns)


def _ratio_refusal(label: str, what: str) -> NotUnderstoodError:
    return NotUnderstoodError(
        f"not covered: {label} {what}",
        hint=f'Ask "{label}", "{label} by owner" or "{label} last quarter".',
    )


def _compile_ratio(
    layer: SemanticLayer, query: StructuredQuery, options: CompileOptions
) -> CompiledQuery:
    """Numerator and denominator each in its own source, grouped by the dimension's key (an
    owner's email), joined on it; `unmatched_sql` lists keys the other source does not know."""
    name = query.metrics[0]
    metric = layer.metrics[name]
    assert metric.ratio is not None
    if len(query.metrics) > 1 or query.list_rows or query.compare_to or query.share:
        raise _ratio_refusal(metric.label, "is answered on its own, as a number or by owner")
    if (
        query.grain
        or query.filters
        or query.missing
        or query.measure_filters
        or (query.metric_filters or query.time_by)
    ):
        raise _ratio_refusal(metric.label, "takes no series, filters or other dates")
    sides = [metric.ratio.numerator, metric.ratio.denominator]
    models = [layer.model_of(side) for side in sides]
    keyed = [d for d in query.dimensions
             if all(d in m.dimensions and m.dimensions[d].key for m in models)]  # fmt: skip
    if len(query.dimensions) > 1 or keyed != query.dimensions:
        raise _ratio_refusal(metric.label, "can only be broken down by owner")
    selects, domains = [], []
    params: dict[str, Any] = {}
    for index, (side, model) in enumerate(zip(sides, models, strict=True)):
        part = query.model_copy(update={"metrics": [side], "dimensions": [], "order": None})
        where, side_params, _ = _where(layer, part, options, query.time_range, f"s{index}_")
        params.update(side_params)
        spec = layer.metrics[side]
        select, group = [f"{spec.expr} AS value"], ""
        join_names = list(spec.joins)
        for dim_name in keyed:
            dim = model.dimensions[dim_name]
            join_names += dim.joins
            select = [f"{dim.key} AS key", f"min({dim.expr}) AS label", *select]
            group = "\nGROUP BY 1"
            domains.append(dim.key_domain)
        text = "SELECT " + ", ".join(select) + f"\nFROM {model.table} AS {model.alias}"
        text += "".join(f"\n{join}" for join in _joins(model, join_names))
        if where:
            text += "\nWHERE " + "\n  AND ".join(f"({clause})" for clause in where)
        selects.append(text + group)
    ratio = f"n.value::numeric / nullif(d.value, 0) AS {name}"
    if not keyed:
        sql_text = (f"WITH n AS ({selects[0]}),\nd AS ({selects[1]})\n"
                    f"SELECT {ratio}"
                    "\nFROM n CROSS JOIN d")  # fmt: skip
        sql_text = _finish(sql_text, params, options)
        return CompiledQuery(sql_text, params, [name], [], [name])
    dim_name = keyed[0]
    direction = "ASC" if query.order is not None and not query.order.desc else "DESC"
    sql_text = (
        f"WITH n AS ({selects[0]}),\nd AS ({selects[1]})\n"
        f"SELECT d.label AS {dim_name},"
        f" coalesce(n.value, 0)::numeric / nullif(d.value, 0) AS {name}\n"
        # A ratio is defined where the denominator is: owners with none are left out, and so
        # is the unassigned bucket (rows without an owner at all).
        f"FROM d LEFT JOIN n ON n.key = d.key\nWHERE d.key IS NOT NULL\n"
        f"ORDER BY {name} {direction} NULLS LAST, 1 NULLS LAST"
    )
    # People of one side the other source does not know, or named people without an email: a
    # ratio for them would be silently wrong, so the answer refuses and names them.
    unmatched = (
        f"WITH n AS ({selects[0]}),\nd AS ({selects[1]})\n"
        f"SELECT '{models[0].source}' AS source, n.label, n.key FROM n"
        f" WHERE (n.key IS NULL AND n.label IS NOT NULL)"
        f" OR n.key NOT IN (SELECT k FROM ({domains[1]}) AS known(k) WHERE k IS NOT NULL)"
        f"\nUNION ALL\nSELECT '{models[1].source}', d.label, d.key FROM d"
        f" WHERE (d.key IS NULL AND d.label IS NOT NULL)"
        f" OR d.key NOT IN (SELECT k FROM ({domains[0]}) AS known(k) WHERE k IS NOT NULL)"
    )
    sql_text = _finish(sql_text + _limit(query, options), params, options)
    unmatched = _finish(unmatched, params, options)
    return CompiledQuery(sql_text, params, [dim_name, name], [dim_name], [name],
                         unmatched_sql=unmatched)  # fmt: skip


def _compile_list(
    layer: SemanticLayer, query: StructuredQuery, options: CompileOptions
) -> CompiledQuery:
    """The rows behind a metric ("list the deals we lost last month"), newest first."""
    metric = layer.metrics[query.metrics[0]]
    model = layer.models[metric.model]
    if not model.list_columns:
        raise NotUnderstoodError(
            f"not covered: {metric.label} cannot be listed row by row",
            hint=f'Ask for a number instead, e.g. "{metric.label} last month".',
        )
    where, params, joins = _where(layer, query, options, query.time_range, "")
    join_names = [*metric.joins, *joins]
    select = []
    for name, column in model.list_columns.items():
        join_names += column.joins
        select.append(f"{column.expr} AS {name}")
    time, _ = layer.time_of(query.metrics[0], query.time_by)
    sql_text = "SELECT " + ",\n       ".join(select)
    sql_text += f"\nFROM {model.table} AS {model.alias}"
    for join in _joins(model, join_names):
        sql_text += f"\n{join}"
    if where:
        sql_text += "\nWHERE " + "\n  AND ".join(f"({clause})" for clause in where)
    count_sql = f"SELECT count(*) FROM ({sql_text}) AS listed"
    if query.list_order is not None:
        direction = "ASC" if query.order is not None and not query.order.desc else "DESC"
        ranked_by = model.measures[query.list_order].expr
        sql_text += f"\nORDER BY {ranked_by} {direction} NULLS LAST, 1"
    else:
        sql_text += f"\nORDER BY {time} DESC NULLS LAST, 1"
    cap = min(query.limit or LIST_ROWS, options.row_limit)
    sql_text = _finish(sql_text + f"\nLIMIT {int(cap)}", params, options)
    columns = list(model.list_columns)
    return CompiledQuery(sql_text, params, columns, columns, [],
                         count_sql=_finish(count_sql, params, options))  # fmt: skip


def _display_order(layer: SemanticLayer, query: StructuredQuery) -> list[str]:
    """The declared order of the query's dimensions (stages in pipeline order), if any."""
    model = layer.model_of(query.metrics[0])
    return [key for name in query.dimensions for key in model.dimensions[name].order]


def _order(
    query: StructuredQuery, dimension_columns: list[str], display: list[str] | None = None
) -> str:
    """Series by time; breakdowns of ordered dimensions in their order; rankings by the
    metric, ties broken by the dimensions."""
    if query.order is None and display:
        # A series keeps time first; within a bucket the declared order applies.
        time = [query.grain] if query.grain else []
        keys = time + [f"{key} NULLS LAST" for key in display]
        # Ids without a label row (no display order yet) fall back to the usual biggest first.
        keys.append(f"{query.metrics[0]} DESC NULLS LAST")
        return ", ".join(keys + [f"{c} NULLS LAST" for c in dimension_columns])
    if query.grain and query.order is None:
        return ", ".join(dimension_columns) if dimension_columns else "1"
    by = query.order.by if query.order else query.metrics[0]
    direction = "DESC" if (query.order is None or query.order.desc) else "ASC"
    keys = [f"{by} {direction} NULLS LAST"] + [f"{c} NULLS LAST" for c in dimension_columns]
    return ", ".join(keys)
