"""The LLM path: the squad fills the same structured query, which we validate.

The model sees the catalog (metrics, dimensions per metric, grains) and answers with JSON.
Invalid output gets one retry carrying the validation error; after a second failure the
caller falls back to the rules parser. A model that says a question is not covered is
believed: the rules parser then decides, and refuses when it cannot answer either.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sophia_cli.core.bi import timephrases
from sophia_cli.core.bi.compile import check_compatible
from sophia_cli.core.bi.semantic import SemanticLayer
from sophia_cli.core.bi.structured import (
    Filter,
    MeasureFilter,
    MetricFilter,
    Order,
    StructuredQuery,
)
from sophia_cli.core.bi.values import ValueIndex, normalise
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import Settings

MAX_TOKENS = 600


class LlmUnusable(Exception):
    """The model could not produce a valid structured query (reason in the message)."""


class _Time(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phrase: str | None = None
    start: date | None = None
    end: date | None = None


class LlmQuery(BaseModel):
    """The JSON the model must return."""

    model_config = ConfigDict(extra="forbid")
    not_covered: bool = False
    metrics: list[str] = Field(default_factory=list)
    dimensions: list[str] = Field(default_factory=list)
    filters: list[Filter] = Field(default_factory=list)
    time: _Time | None = None
    grain: Literal["day", "week", "month", "quarter", "year"] | None = None
    order: Order | None = None
    limit: int | None = Field(default=None, ge=1, le=1000)
    compare_to: _Time | None = None
    share: bool = False
    list_rows: bool = False
    missing: list[str] = Field(default_factory=list)
    measure_filters: list[MeasureFilter] = Field(default_factory=list)
    metric_filters: list[MetricFilter] = Field(default_factory=list)
    time_by: str | None = None


def catalog(layer: SemanticLayer) -> str:
    """The semantic layer as the model reads it."""
    lines = ["Metrics (name: label; dimensions it can be broken down or filtered by):"]
    for name, metric in layer.metrics.items():
        dims = ", ".join(layer.models[metric.model].dimensions)
        lines.append(f"- {name}: {metric.label}; dimensions: {dims}")
    lines.append("Per model: measures (for measure_filters) and dates (for time_by):")
    for name, model in layer.models.items():
        lines.append(f"- {name}: measures {', '.join(model.measures) or 'none'}; "
                     f"dates {', '.join(model.times) or 'none'}")  # fmt: skip
    lines.append("compare_to: the earlier period of a comparison; share: the filtered part "
                 "over the whole; list_rows: the rows themselves; missing: dimensions that "
                 "must be empty; filters[].exclude: leave those values out.")  # fmt: skip
    return "\n".join(lines)


def messages(layer: SemanticLayer, question: str, as_of: date) -> list[dict[str, Any]]:
    schema = json.dumps(LlmQuery.model_json_schema())
    system = (
        "You translate business questions into a structured query over a fixed semantic "
        f"layer. Today is {as_of.isoformat()}.\n{catalog(layer)}\n"
        "Reply with one JSON object only, matching this JSON schema:\n"
        f"{schema}\nUse time.phrase for relative periods (e.g. 'last quarter', 'Q3 2025', "
        "'past 30 days'). Filter values must be names as they appear in the data. "
        "Use order+limit for rankings (top/bottom N). If the question cannot be answered "
        'with these metrics, reply {"not_covered": true}. Never invent metrics.'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def _json_text(text: str) -> Any:
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    return json.loads(fenced[1] if fenced else text)


def _canonical_value(values: ValueIndex, model: str, dimension: str, value: str) -> str:
    key = normalise(value)
    found = {v for m, d, v in values.exact(key) if (m, d) == (model, dimension)}
    found = found or {v for m, d, v in values.fuzzy(key) if (m, d) == (model, dimension)}
    if not found:
        raise ValueError(f"{value!r} is not a {dimension} that exists in the data")
    return sorted(found)[0]


def _range(
    time: _Time | None, cal: timephrases.Calendar, field: str
) -> timephrases.TimeRange | None:
    if time and time.phrase:
        try:
            return timephrases.resolve(time.phrase, cal)
        except SophiaError as exc:
            raise ValueError(f"{field}.phrase: {exc.message}") from exc
    if time and (time.start or time.end):
        if time.start and time.end and time.start >= time.end:
            raise ValueError(f"{field}.start must be before {field}.end")
        return timephrases.TimeRange(
            phrase="dates given", start=time.start, end=time.end,
            grain=timephrases.default_grain(time.start, time.end),
        )  # fmt: skip
    return None


def validate(
    text: str, layer: SemanticLayer, values: ValueIndex, cal: timephrases.Calendar
) -> StructuredQuery | None:
    """The structured query in a model's reply, None when it says "not covered".

    Raises ValueError (or a subclass) with a message meant for the model's retry.
    """
    try:
        raw = LlmQuery.model_validate(_json_text(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"the reply is not valid JSON for the schema: {str(exc)[:300]}") from exc
    if raw.not_covered:
        return None
    unknown = [m for m in raw.metrics if m not in layer.metrics]
    if not raw.metrics or unknown:
        raise ValueError(f"unknown or missing metric: {unknown or 'none given'}")
    model = layer.metrics[raw.metrics[0]].model
    filters = [
        Filter(dimension=f.dimension,
               values=[_canonical_value(values, model, f.dimension, v) for v in f.values])
        for f in raw.filters
    ]  # fmt: skip
    if raw.order and raw.order.by not in raw.metrics:
        raise ValueError("order.by must be one of the chosen metrics")
    filters = [Filter(dimension=f.dimension, values=g.values, exclude=f.exclude)
               for f, g in zip(raw.filters, filters, strict=True)]  # fmt: skip
    query = StructuredQuery(
        metrics=raw.metrics, dimensions=raw.dimensions, filters=filters,
        time_range=_range(raw.time, cal, "time"), grain=raw.grain, order=raw.order,
        limit=raw.limit, compare_to=_range(raw.compare_to, cal, "compare_to"), share=raw.share,
        list_rows=raw.list_rows, missing=raw.missing, measure_filters=raw.measure_filters,
        metric_filters=raw.metric_filters, time_by=raw.time_by,
    )  # fmt: skip
    try:
        check_compatible(layer, query)
    except SophiaError as exc:
        raise ValueError(exc.message) from exc
    return query


def llm_available(settings: Settings) -> bool:
    """Whether the squad has a deployment it could call for chat."""
    from sophia_cli.core.squad.keys import any_keyed

    try:
        if not any_keyed(settings):
            return False  # nothing to plan: the usual case without an LLM, and cheap
        from sophia_cli.core.squad.models import CompletionRequest
        from sophia_cli.core.squad.router import route

        record = route(settings, CompletionRequest(messages=[{"role": "user", "content": "."}]))
    except SophiaError:
        return False
    return any(candidate.status == "eligible" for candidate in record.candidates)


def complete_text(settings: Settings, chat: list[dict[str, Any]]) -> str:
    """One chat completion through the squad router (budget, cache, fallbacks included)."""
    from sophia_cli.core.squad.models import CompletionRequest
    from sophia_cli.core.squad.router import complete

    request = CompletionRequest(
        messages=chat, capabilities=["chat"], max_tokens=MAX_TOKENS, temperature=0,
        response_format={"type": "json_object"},
    )  # fmt: skip
    return complete(settings, request).text


def parse(
    settings: Settings,
    question: str,
    layer: SemanticLayer,
    values: ValueIndex,
    cal: timephrases.Calendar,
) -> StructuredQuery | None:
    """The model's structured query (None: not covered); LlmUnusable after two bad replies."""
    chat = messages(layer, question, cal.as_of)
    error = ""
    for _attempt in range(2):
        try:
            text = complete_text(settings, chat)
        except SophiaError as exc:
            raise LlmUnusable(f"the squad failed: {exc.message}") from exc
        try:
            return validate(text, layer, values, cal)
        except ValueError as exc:
            error = str(exc)
            chat = [*chat, {"role": "assistant", "content": text},
                    {"role": "user", "content": f"That reply is invalid: {error}. "
                     "Reply with corrected JSON only."}]  # fmt: skip
    raise LlmUnusable(f"the model's reply was invalid twice: {error}")
