"""Nearest answerable questions, for answers that refuse instead of guessing."""

from __future__ import annotations

import difflib

from sophia_cli.core.bi.semantic import SemanticLayer
from sophia_cli.core.bi.vocabulary import STOPWORDS, normalise_question, stem
from sophia_cli.core.errors import NotUnderstoodError


def candidate_questions(layer: SemanticLayer) -> list[str]:
    """Questions the layer can answer, a few per metric."""
    questions = []
    for metric in layer.metrics.values():
        dims = list(layer.models[metric.model].dimensions)
        questions.append(f"{metric.label} last quarter")
        questions.append(f"{metric.label} by month this year")
        if dims:
            first = layer.dimensions[dims[0]].label
            questions.append(f"{metric.label} by {first} last quarter")
            questions.append(f"top 5 {first}s by {metric.label} this year")
    return questions


def _words(text: str) -> set[str]:
    return {stem(w) for w in normalise_question(text).split() if w not in STOPWORDS}


def nearest(layer: SemanticLayer, question: str, n: int = 5) -> list[str]:
    """The `n` candidate questions closest to `question` (word overlap, then spelling)."""
    asked = _words(question)
    text = normalise_question(question)

    def score(candidate: str) -> tuple[float, float]:
        words = _words(candidate)
        overlap = len(asked & words) / (len(asked | words) or 1)
        return overlap, difflib.SequenceMatcher(None, text, candidate).ratio()

    ranked = sorted(candidate_questions(layer), key=score, reverse=True)
    return ranked[:n]


def not_understood(
    layer: SemanticLayer, question: str, reason: str, *, extra: list[str] | None = None
) -> NotUnderstoodError:
    """The refusal for `question`, with the nearest answerable questions."""
    suggestions = list(dict.fromkeys([*(extra or []), *nearest(layer, question)]))[:5]
    hint = "Try: " + " · ".join(f'"{s}"' for s in suggestions[:3])
    return NotUnderstoodError(f"not covered: {reason}", suggestions=suggestions, hint=hint)
