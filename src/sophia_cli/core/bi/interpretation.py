"""How a question was understood: one typed model per way of answering, told apart by `kind`.

The core builds these; the CLI and the HTTP route only render them. The JSON keeps the keys
scripts and the blind harness already read (`metrics`, `time_range`, `list`, `search`,
`truncated`, `notes`…) and adds `kind`: "semantic" (compiled from the semantic layer),
"search" (answered by full-text search) or "model_sql" (SQL written by the LLM, guarded only).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sophia_cli.core.bi.structured import Filter, MeasureFilter, MetricFilter, Order, Shape, shape
from sophia_cli.core.bi.timephrases import TimeRange


class Period(BaseModel):
    """A resolved time phrase: what was typed and the dates it covers ([start, end))."""

    phrase: str
    start: str | None
    end: str | None
    dates: str

    @classmethod
    def of(cls, found: TimeRange) -> Period:
        return cls(
            phrase=found.phrase, start=_iso(found.start), end=_iso(found.end),
            dates=found.describe(),
        )  # fmt: skip


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


class MetricName(BaseModel):
    name: str
    label: str


class SemanticInterpretation(BaseModel):
    """A question compiled from the semantic layer: every part, in words and as data."""

    # `list` is the key scripts read; `listing` in Python, where `list` names the type.
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)  # fmt: skip

    kind: Literal["semantic"] = "semantic"
    metrics: list[MetricName]
    dated_by: str
    keep_unassigned: bool = False
    words: dict[str, list[str]] = Field(default_factory=dict)
    dimensions: list[str] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    time_range: Period | None = None
    compare_to: Period | None = None
    share: bool = False
    conditions: list[str] = Field(default_factory=list)
    listing: bool = Field(default=False, alias="list")
    missing: list[str] = Field(default_factory=list)
    measure_filters: list[MeasureFilter] = Field(default_factory=list)
    metric_filters: list[MetricFilter] = Field(default_factory=list)
    grain: str | None = None
    order: Order | None = None
    limit: int | None = None
    parser: str
    freshness: dict[str, str | None] = Field(default_factory=dict)
    truncated: bool = False
    notes: list[str] = Field(default_factory=list)

    def shape(self) -> Shape:
        """Series, ranking, list, breakdown or one number: what a chart may draw."""
        return shape(self.dimensions, self.grain, listing=self.listing)


class SearchInterpretation(BaseModel):
    """A "what are people saying about X" question, answered by search over the texts."""

    kind: Literal["search"] = "search"
    search: str
    since: str | None = None
    until: str | None = None
    external_only: bool = False
    mode: str
    parser: str
    note: str | None = None


class ModelSqlInterpretation(BaseModel):
    """A question outside the layer answered by model-written SQL (`--allow-llm-sql`)."""

    kind: Literal["model_sql"] = "model_sql"
    parser: Literal["llm-sql"] = "llm-sql"
    truncated: bool = False
    notes: list[str] = Field(default_factory=list)


Interpretation = Annotated[
    SemanticInterpretation | SearchInterpretation | ModelSqlInterpretation,
    Field(discriminator="kind"),
]
