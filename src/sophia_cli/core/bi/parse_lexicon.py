"""The word tables a question is read with, built once per semantic layer.

Stems of every dimension and metric phrase, the models' nouns, dates and adjectives, and the
vocabulary they make up; the parser's parts (names, shapes, metrics) all read these.
"""

from __future__ import annotations

from sophia_cli.core.bi.semantic import SemanticLayer
from sophia_cli.core.bi.values import ValueIndex
from sophia_cli.core.bi.vocabulary import GRAIN_WORDS, GRAINS, RANK_WORDS, Words, stem


class Lexicon:
    """One semantic layer's words, and the values of one warehouse."""

    def __init__(self, layer: SemanticLayer, values: ValueIndex) -> None:
        self.layer = layer
        self.values = values
        self.dim_phrases = {
            tuple(stem(w) for w in syn.split()): name
            for name, dim in layer.dimensions.items()
            for syn in [*dim.synonyms, dim.label.lower(), name.replace("_", " ")]
        }
        self.metric_phrases = [
            (tuple(stem(w) for w in syn.lower().split()), name)
            for name, metric in layer.metrics.items()
            for syn in [*metric.synonyms, metric.label.lower(), name.replace("_", " ")]
        ]
        self.vocabulary = {s for phrase in self.dim_phrases for s in phrase}
        self.vocabulary |= {s for phrase, _ in self.metric_phrases for s in phrase}
        self.vocabulary |= set(GRAINS) | set(GRAIN_WORDS) | set(RANK_WORDS) | {"trend"}
        self.nouns = {name: {stem(w) for w in model.nouns} for name, model in layer.models.items()}
        self.time_words = {
            name: {stem(w): key for key, t in model.times.items() for w in t.words}
            for name, model in layer.models.items()
        }
        self.agreeing = {name: {stem(w) for w in m.words} for name, m in layer.metrics.items()}
        for words_of in (*self.nouns.values(), *self.agreeing.values()):
            self.vocabulary |= words_of
        self.vocabulary |= {w for found in self.time_words.values() for w in found}
        self.adjectives = {
            name: sorted(
                (
                    (tuple(stem(w) for w in phrase.lower().split()), key)
                    for key, adj in model.adjectives.items()
                    for phrase in adj.words
                ),
                key=lambda pair: -len(pair[0]),
            )  # fmt: skip
            for name, model in layer.models.items()
        }
        self.vocabulary |= {s for found in self.adjectives.values() for p, _ in found for s in p}

    def _dimension_at(self, words: Words, start: int) -> tuple[str, int] | None:
        for size in (3, 2, 1):
            phrase = tuple(words.stems[start : start + size])
            if (
                len(phrase) == size
                and phrase in self.dim_phrases
                and words.free(start, start + size)
            ):
                return self.dim_phrases[phrase], size
        return None

    def _metric_starts_at(self, words: Words, start: int, size: int) -> bool:
        """Whether a longer metric phrase starts here: "by pipeline value" names a metric."""
        for phrase, _ in self.metric_phrases:
            if len(phrase) > size and tuple(words.stems[start : start + len(phrase)]) == phrase:
                return words.free(start, start + len(phrase))
        return False

    def _person(self, model: str) -> list[str]:
        return [d for d, spec in self.layer.models[model].dimensions.items() if spec.person]
