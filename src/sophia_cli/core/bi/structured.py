"""The structured query: what a question means, independent of how it was parsed."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, Field

from sophia_cli.core.bi.timephrases import TimeRange

Grain = Literal["day", "week", "month", "quarter", "year"]


Op = Literal[">", ">=", "<", "<="]
# What an answer's rows are: one number (or one row), a series over time, a ranking or
# breakdown by one dimension, a breakdown by more, or the records themselves.
Shape = Literal["single", "series", "ranking", "breakdown", "list"]


def shape(dimensions: list[str], grain: str | None, *, listing: bool) -> Shape:
    """The shape of the rows a query with these parts returns (a chart draws series and
    rankings: one column of labels, one of numbers)."""
    if listing:
        return "list"
    if grain is not None and not dimensions:
        return "series"
    if grain is None and len(dimensions) == 1:
        return "ranking"
    return "single" if grain is None and not dimensions else "breakdown"


class Filter(BaseModel):
    """Keep rows whose dimension equals one of `values` (as they exist in the data), or, with
    `exclude`, every other row ("excluding Acme" keeps deals without a company too)."""

    dimension: str
    values: list[str] = Field(min_length=1)
    exclude: bool = False


class MeasureFilter(BaseModel):
    """Keep rows whose measure compares to a number: "deals over 50k" → amount > 50000."""

    measure: str
    op: Op
    value: float


class MetricFilter(BaseModel):
    """Keep groups whose metric compares to a number: "companies with more than 10 deals"."""

    metric: str
    op: Op
    value: float


class Order(BaseModel):
    """Sort by the first metric; `desc` for "top", ascending for "bottom"."""

    by: str
    desc: bool = True


class StructuredQuery(BaseModel):
    """{metrics, dimensions, filters, time_range, grain, order, limit}."""

    metrics: list[str] = Field(min_length=1)
    dimensions: list[str] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    time_range: TimeRange | None = None
    grain: Grain | None = None
    order: Order | None = None
    limit: int | None = Field(default=None, ge=1, le=10000)
    missing: list[str] = Field(default_factory=list)
    # "archived", "private": the model's adjectives narrowing its rows.
    adjectives: list[str] = Field(default_factory=list)  # "without an owner": dimension is empty
    measure_filters: list[MeasureFilter] = Field(default_factory=list)
    metric_filters: list[MetricFilter] = Field(default_factory=list)
    # "vs last quarter", "YoY": the earlier period the answer compares with.
    compare_to: TimeRange | None = None
    # "what share of won revenue came from Enterprise": the filtered part over the whole.
    share: bool = False
    # "list the deals we lost last month": the rows themselves, not an aggregate.
    list_rows: bool = False
    # A list ranked by a measure of each row ("the biggest deal": amount), else newest first.
    list_order: str | None = None
    # A date of the model other than the metric's own ("won revenue from deals created …").
    time_by: str | None = None
    # Rankings leave rows without a dimension value (no owner, no assignee) out unless asked.
    keep_unassigned: bool = False
    # The question's words per part of the query; says how it was read, changes no rows.
    words: dict[str, list[str]] = Field(default_factory=dict)

    def cache_digest(self) -> str:
        """A stable digest of everything that changes the rows."""
        text = json.dumps(self.model_dump(mode="json", exclude={"words"}), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]
