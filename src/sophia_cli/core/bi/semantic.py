"""The semantic layer: metrics, dimensions and models, loaded from YAML.

The package ships `semantic.yaml` for the warehouse contract; SOPHIA_SEMANTIC_FILE adds or
replaces metrics, dimensions and models by name. The result is validated once, so every
reference (a metric's model, a dimension's joins) is known to exist before a question runs.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sophia_cli.core.errors import ConfigError
from sophia_cli.core.settings import Settings

Format = Literal["number", "currency", "percent", "days", "minutes"]
GRAINS = ("day", "week", "month", "quarter", "year")


class _Entry(BaseModel):
    """An entry of the layer: an unknown key is an error, not ignored. A comma in an
    unquoted YAML flow mapping (`{expr: round(x, 1)}`) splits it into a stray key `1)`."""

    model_config = ConfigDict(extra="forbid")


class Dimension(_Entry):
    """A name people use for a way to slice a metric, and other names for its values."""

    label: str
    synonyms: list[str] = Field(default_factory=list)
    # value as stored → words people use for it ("HOSPITAL_HEALTH_CARE": [healthcare]).
    values: dict[str, list[str]] = Field(default_factory=dict)


class TimeColumn(_Entry):
    """A date a model's rows can be bucketed by, and the verbs that pick it ("created")."""

    column: str
    label: str
    words: list[str] = Field(default_factory=list)


class ModelDimension(_Entry):
    """How one model computes a dimension."""

    expr: str
    joins: list[str] = Field(default_factory=list)
    person: bool = False
    # A table giving the stored ids their labels; when it is empty the answer says ids show.
    labels: str | None = None
    # Aggregates ordering a breakdown by this dimension when the question ranks nothing
    # ("open deals by stage" in the pipeline's order, not by count); they may need `joins`.
    order: list[str] = Field(default_factory=list)
    # What identifies the same thing across sources (an owner's lower-cased email), and the
    # query listing every key the source knows: ratios across models join on it.
    key: str | None = None
    key_domain: str | None = None


class Measure(_Entry):
    """A number on each row that questions filter by ("deals over 50k")."""

    expr: str
    label: str
    words: list[str] = Field(default_factory=list)
    format: Format = "number"


class ListColumn(_Entry):
    """One column of a list answer ("list the deals we lost")."""

    expr: str
    label: str
    joins: list[str] = Field(default_factory=list)


class Adjective(_Entry):
    """A word that narrows a model's rows ("archived", "private"): a condition in SQL."""

    where: str
    label: str
    joins: list[str] = Field(default_factory=list)
    # Phrases naming it, longest first when matched ("archived projects" before "archived").
    words: list[str] = Field(default_factory=list)


class Model(_Entry):
    """One fact table with its joins and dimensions."""

    source: str
    table: str
    alias: str
    where: str | None = None
    joins: dict[str, str] = Field(default_factory=dict)
    dimensions: dict[str, ModelDimension] = Field(default_factory=dict)
    times: dict[str, TimeColumn] = Field(default_factory=dict)
    measures: dict[str, Measure] = Field(default_factory=dict)
    # The columns of a list answer, in order; a model without them cannot list its rows.
    list_columns: dict[str, ListColumn] = Field(default_factory=dict)
    # Words that name this model's rows ("deal", "task"): they add nothing to a metric of it.
    nouns: list[str] = Field(default_factory=list)
    adjectives: dict[str, Adjective] = Field(default_factory=dict)
    # The count "busiest"/"quietest" ranks by ("the busiest channel": messages).
    activity: str | None = None


class Ratio(_Entry):
    """A metric divided by a metric of another model, each computed in its own source and
    joined on a dimension's `key` ("calls per won deal" by owner, through owners' emails)."""

    numerator: str
    denominator: str


class Metric(_Entry):
    """An aggregate over one model, dated by one time column; or a ratio of two metrics,
    whose model, expression and time are the numerator's (filled in when loaded)."""

    model: str = ""
    label: str
    expr: str = ""
    where: str | None = None
    joins: list[str] = Field(default_factory=list)
    time: str = ""
    ratio: Ratio | None = None
    # How the answer names `time` when the model's own label would mislead ("expected close").
    time_label: str | None = None
    # Its rows are dated by when they are expected (open deals by expected close, open tasks
    # by due date): "in december" and "in q1" name the coming one, not the last one.
    dated_ahead: bool = False
    format: Format = "number"
    synonyms: list[str] = Field(default_factory=list)
    # Adjectives and verbs that agree with this metric ("open", "closed") without naming it.
    words: list[str] = Field(default_factory=list)


class SemanticLayer(_Entry):
    """Everything a question can be answered with."""

    dimensions: dict[str, Dimension]
    models: dict[str, Model]
    metrics: dict[str, Metric]

    def model_of(self, metric: str) -> Model:
        return self.models[self.metrics[metric].model]

    def dimensions_of(self, metric: str) -> list[str]:
        """Dimension names a metric can be sliced by, in the model's order."""
        return list(self.model_of(metric).dimensions)

    def time_of(self, metric: str, time_by: str | None = None) -> tuple[str, str]:
        """The column dating `metric` (or the model's `time_by` date) and its label."""
        model, spec = self.model_of(metric), self.metrics[metric]
        if time_by is not None:
            chosen = model.times[time_by]
            return chosen.column, chosen.label
        if spec.time_label:
            return spec.time, spec.time_label
        named = [t.label for t in model.times.values() if t.column == spec.time]
        return spec.time, named[0] if named else spec.time.split(".")[-1].replace("_", " ")


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """User entries replace shipped entries of the same name, section by section."""
    merged = {key: dict(value or {}) for key, value in base.items()}
    for section, entries in extra.items():
        if section not in ("dimensions", "models", "metrics"):
            raise ConfigError(
                f"semantic file: unknown section {section!r}",
                hint="Use only the sections dimensions, models and metrics.",
            )
        if not isinstance(entries, dict):
            raise ConfigError(f"semantic file: section {section!r} must be a mapping")
        merged.setdefault(section, {}).update(entries)
    return merged


def _read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        # The C loader when built (about 4x faster on the shipped layer): every CLI ask pays it.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{origin} is not valid YAML: {str(exc).splitlines()[0]}",
            hint="Fix the YAML syntax of the semantic file.",
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin} must be a mapping of sections", hint="See semantic.yaml.")
    return data


def _fill_ratios(layer: SemanticLayer, origin: str) -> None:
    """A ratio takes its model and time from the numerator: one declaration, the rest derived."""
    for name, metric in list(layer.metrics.items()):
        if metric.ratio is None:
            continue
        parts = [metric.ratio.numerator, metric.ratio.denominator]
        for part in parts:
            if part not in layer.metrics or layer.metrics[part].ratio is not None:
                raise ConfigError(f"{origin}: ratio {name!r} needs a plain metric {part!r}")
        numerator = layer.metrics[parts[0]]
        layer.metrics[name] = metric.model_copy(update={
            "model": numerator.model, "time": numerator.time,
            "expr": f"{numerator.expr} / {layer.metrics[parts[1]].expr}",
        })  # fmt: skip


def _check_references(layer: SemanticLayer, origin: str) -> None:
    _fill_ratios(layer, origin)
    for name, metric in layer.metrics.items():
        model = layer.models.get(metric.model)
        if model is None:
            raise ConfigError(f"{origin}: metric {name!r} uses unknown model {metric.model!r}")
        for join in metric.joins:
            if join not in model.joins:
                raise ConfigError(f"{origin}: metric {name!r} uses unknown join {join!r}")
    for model_name, model in layer.models.items():
        for adj_name, adjective in model.adjectives.items():
            for join in adjective.joins:
                if join not in model.joins:
                    raise ConfigError(
                        f"{origin}: adjective {model_name}.{adj_name} uses unknown join {join!r}"
                    )
        for dim_name, dim in model.dimensions.items():
            if dim_name not in layer.dimensions:
                raise ConfigError(
                    f"{origin}: model {model_name!r} computes undeclared dimension {dim_name!r}",
                    hint="Declare it under `dimensions:` with a label and synonyms.",
                )
            for join in dim.joins:
                if join not in model.joins:
                    raise ConfigError(
                        f"{origin}: dimension {model_name}.{dim_name} uses unknown join {join!r}"
                    )


def load_layer(user_file: Path | None = None) -> SemanticLayer:
    """The shipped layer, extended by `user_file` when given; ConfigError when invalid."""
    shipped = resources.files("sophia_cli.core.bi").joinpath("semantic.yaml").read_text("utf-8")
    data = _read_yaml(shipped, "semantic.yaml")
    origin = "semantic.yaml"
    if user_file is not None:
        if not user_file.is_file():
            raise ConfigError(
                f"SOPHIA_SEMANTIC_FILE {user_file} does not exist",
                hint="Point SOPHIA_SEMANTIC_FILE at a YAML file, or unset it.",
            )
        origin = str(user_file)
        data = _merge(data, _read_yaml(user_file.read_text("utf-8"), origin))
    try:
        layer = SemanticLayer.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{origin}: {where}: {first['msg']}", hint="Fix the entry named above."
        ) from exc
    _check_references(layer, origin)
    return layer


@lru_cache(maxsize=8)
def _cached_layer(path: str | None, mtime: float) -> SemanticLayer:
    return load_layer(Path(path) if path else None)


def layer_for(settings: Settings) -> SemanticLayer:
    """The layer for these settings, cached per user file and its modification time."""
    path = settings.sophia_semantic_file
    if path is None:
        return _cached_layer(None, 0.0)
    mtime = path.stat().st_mtime if path.is_file() else -1.0
    return _cached_layer(str(path), mtime)
