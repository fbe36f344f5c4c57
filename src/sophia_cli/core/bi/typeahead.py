"""Suggestions as people type a question: metrics, dimensions, example questions and names
in the data, matched by word prefix or substring (what `sophia ask --list` shows, plus values).

The layer's entries are built once per layer; the names once per data version (they come
from the same per-version index questions are matched against), so a keystroke costs one
small version query and a scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from sophia_cli.core.bi.catalog import catalog
from sophia_cli.core.bi.semantic import SemanticLayer, layer_for
from sophia_cli.core.bi.suggest import candidate_questions
from sophia_cli.core.bi.values import ValueIndex, normalise
from sophia_cli.core.errors import MigrationError
from sophia_cli.core.settings import Settings

Kind = Literal["metric", "dimension", "example", "value"]
KIND_ORDER: dict[str, int] = {"metric": 0, "dimension": 1, "example": 2, "value": 3}
MIN_VALUE_QUERY = 2  # one letter would list half the names in the warehouse
MAX_MEMOS = 8


class Suggestion(BaseModel):
    text: str
    kind: Kind
    detail: str | None = None


class Suggestions(BaseModel):
    """Exactly what `GET /v1/ask/suggest` returns."""

    suggestions: list[Suggestion]


@dataclass(frozen=True)
class _Key:
    """A normalised text an entry is found by, prepared once: " won revenue", its words."""

    spaced: str
    words: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Key:
        return cls(" " + text, tuple(text.split()))


@dataclass(frozen=True)
class _Entry:
    suggestion: Suggestion
    keys: tuple[_Key, ...]  # its own text first, then its synonyms


def _score(query: str, words: list[str], key: _Key) -> int | None:
    """Lower is better: starts with, a word starts with, contains, every word starts a word."""
    spaced = " " + query
    if key.spaced.startswith(spaced):
        return 0
    if spaced in key.spaced:
        return 1
    if query in key.spaced:
        return 2
    # One word that starts no word of the key was already ruled out above.
    if len(words) > 1 and all(any(k.startswith(w) for k in key.words) for w in words):
        return 3
    return None


def _entry(text: str, kind: Kind, detail: str | None, *names: str) -> _Entry:
    keys = dict.fromkeys(normalise(name) for name in (text, *names) if normalise(name))
    return _Entry(Suggestion(text=text, kind=kind, detail=detail), tuple(map(_Key.of, keys)))


def _layer_entries(layer: SemanticLayer) -> tuple[list[_Entry], list[Suggestion]]:
    """Entries for the layer's words, and the examples shown before anything is typed."""
    found = catalog(layer)
    entries = [
        _entry(m.label, "metric", f"{m.source}, dated by {m.dated_by}", *m.synonyms)
        for m in found.metrics
    ]
    entries += [
        _entry(
            d.label,
            "dimension",
            f"also: {', '.join(d.synonyms[:4])}" if d.synonyms else None,
            *d.synonyms,
        )  # fmt: skip
        for d in found.dimensions
    ]
    questions = dict.fromkeys([*found.examples, *candidate_questions(layer)])
    entries += [_entry(question, "example", None) for question in questions]
    return entries, [Suggestion(text=q, kind="example") for q in found.examples]


def _value_entries(layer: SemanticLayer, index: ValueIndex) -> list[_Entry]:
    """One entry per (dimension, value) in the data, detailed with the dimension's name."""
    seen: set[tuple[str, str]] = set()
    entries = []
    for key, places in index.by_name.items():
        for _, dimension, value in sorted(places):
            if (dimension, value) in seen:
                continue
            seen.add((dimension, value))
            label = layer.dimensions[dimension].label
            suggestion = Suggestion(text=value, kind="value", detail=label)
            entries.append(_Entry(suggestion, (_Key.of(key),)))
    return entries


_LAYER_MEMO: dict[int, tuple[SemanticLayer, list[_Entry], list[Suggestion]]] = {}
# Keyed by the names' index, which ask keeps one of per warehouse, layer and data version
# (two warehouses can be at the same version: a version alone would mix their names).
_VALUE_MEMO: dict[int, tuple[ValueIndex, list[_Entry]]] = {}


def _cached_layer_entries(layer: SemanticLayer) -> tuple[list[_Entry], list[Suggestion]]:
    memo = _LAYER_MEMO.get(id(layer))
    if memo is None or memo[0] is not layer:  # the layer object is kept, so ids never repeat
        if len(_LAYER_MEMO) >= MAX_MEMOS:
            _LAYER_MEMO.clear()
        memo = (layer, *_layer_entries(layer))
        _LAYER_MEMO[id(layer)] = memo
    return memo[1], memo[2]


def _cached_value_entries(settings: Settings, layer: SemanticLayer) -> list[_Entry]:
    from sophia_cli.core.bi.ask import names_in_data

    _, index = names_in_data(settings, layer)
    memo = _VALUE_MEMO.get(id(index))
    if memo is None or memo[0] is not index:  # the index is kept, so ids never repeat
        if len(_VALUE_MEMO) >= MAX_MEMOS:
            _VALUE_MEMO.clear()
        memo = _VALUE_MEMO[id(index)] = (index, _value_entries(layer, index))
    return memo[1]


def rank(entries: list[_Entry], text: str, limit: int) -> list[Suggestion]:
    """The best `limit` entries for `text` (already normalised), best match first."""
    words = text.split()
    scored = []
    for entry in entries:
        # The text itself before its synonyms: "won" shows "won revenue" before "win rate".
        scores = [s + (0.5 if n else 0.0) for n, key in enumerate(entry.keys)
                  if (s := _score(text, words, key)) is not None]  # fmt: skip
        if scores:
            item = entry.suggestion
            scored.append((min(scores), KIND_ORDER[item.kind], len(item.text), item.text, item))
    scored.sort(key=lambda found: found[:4])
    return [found[4] for found in scored[:limit]]


def suggest(settings: Settings, query: str, limit: int = 10) -> Suggestions:
    """Suggestions for what has been typed so far; examples when nothing has."""
    layer = layer_for(settings)
    entries, examples = _cached_layer_entries(layer)
    text = normalise(query)
    if not text:
        return Suggestions(suggestions=examples[:limit])
    if len(text) >= MIN_VALUE_QUERY:
        try:
            entries = entries + _cached_value_entries(settings, layer)
        except MigrationError:
            pass  # before `db init` the layer's words are still worth suggesting
    return Suggestions(suggestions=rank(entries, text, limit))
