"""What `ask` can answer, from the semantic layer: metrics, dimensions, example questions."""

from __future__ import annotations

from pydantic import BaseModel

from sophia_cli.core.bi.semantic import SemanticLayer
from sophia_cli.core.bi.suggest import candidate_questions

SUFFIXES = {"_previous": "previous period", "_change_pct": "change %", "_change": "change",
            "_total": "total", "_share": "share"}  # fmt: skip


class MetricEntry(BaseModel):
    name: str
    label: str
    source: str
    dated_by: str
    synonyms: list[str]
    dimensions: list[str]


class DimensionEntry(BaseModel):
    name: str
    label: str
    synonyms: list[str]
    value_synonyms: dict[str, list[str]]


class Catalog(BaseModel):
    """Exactly what `sophia ask --list --json` prints."""

    metrics: list[MetricEntry]
    dimensions: list[DimensionEntry]
    examples: list[str]


def catalog(layer: SemanticLayer) -> Catalog:
    """Every metric and dimension a question can name, with a few example questions."""
    metrics = [
        MetricEntry(
            name=name,
            label=metric.label,
            source=layer.models[metric.model].source,
            dated_by=layer.time_of(name)[1],
            synonyms=metric.synonyms,
            dimensions=layer.dimensions_of(name),
        )  # fmt: skip
        for name, metric in layer.metrics.items()
    ]
    dimensions = [
        DimensionEntry(name=name, label=dim.label, synonyms=dim.synonyms, value_synonyms=dim.values)
        for name, dim in layer.dimensions.items()
    ]
    examples = candidate_questions(layer)[::7][:12] + [
        "compare won revenue this quarter vs last quarter",
        "deals over 50k closed last month",
        "list the deals we lost last month",
        "what share of won revenue came from the Enterprise pipeline",
    ]
    return Catalog(metrics=metrics, dimensions=dimensions, examples=examples)


def column_label(layer: SemanticLayer, column: str) -> str:
    """A result column's header in words: `won_revenue_previous` → "won revenue (previous
    period)"."""
    for suffix, words in SUFFIXES.items():
        if column.endswith(suffix) and column[: -len(suffix)] in layer.metrics:
            return f"{layer.metrics[column[: -len(suffix)]].label} ({words})"
    if column in layer.metrics:
        return layer.metrics[column].label
    if column in layer.dimensions:
        return layer.dimensions[column].label
    return column.replace("_", " ")


def vocabulary(layer: SemanticLayer) -> list[str]:
    """Words for shell completion: metric and dimension names people type."""
    words = {syn for metric in layer.metrics.values() for syn in [metric.label, *metric.synonyms]}
    words |= {syn for dim in layer.dimensions.values() for syn in [dim.label, *dim.synonyms]}
    return sorted(words)
