"""The deterministic parser: a question to a structured query, or a clear refusal.

Order of work: a search question is recognised first; then the time phrase is cut out; names
that exist in the data are matched (exact, first name, then typo-tolerant); grain, ranking and
"by X" dimensions are read; the metric is the synonym that covers the most words. Any word
left over that means something is a reason to refuse, never to guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sophia_cli.core.bi import timephrases
from sophia_cli.core.bi.semantic import SemanticLayer
from sophia_cli.core.bi.structured import Filter, Order, StructuredQuery
from sophia_cli.core.bi.suggest import not_understood
from sophia_cli.core.bi.values import ValueIndex
from sophia_cli.core.bi.vocabulary import (
    GRAIN_WORDS,
    GRAINS,
    GROUP_LEADS,
    OUTSIDERS,
    RANK_WORDS,
    SEARCH_QUESTION,
    STOPWORDS,
    TREND_WORDS,
    Words,
    normalise_question,
    place,
    repair,
    stem,
)


@dataclass
class SearchIntent:
    """A "what are people saying about X" question, answered by full-text search."""

    topic: str
    time_range: timephrases.TimeRange | None = None
    external_only: bool = False  # "what did customers say": their words, not ours


@dataclass
class _ValueMatch:
    start: int
    end: int
    candidates: set[tuple[str, str, str]]


class RulesParser:
    """Parses questions against one semantic layer and the values of one warehouse."""

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

    def parse(self, question: str, cal: timephrases.Calendar) -> StructuredQuery | SearchIntent:
        """The structured query for `question`; NotUnderstoodError with suggestions if none."""
        text = normalise_question(question)
        if not text:
            raise not_understood(self.layer, question, "the question is empty")
        time_range = None
        if found := timephrases.find(text, cal):
            time_range, (start, end) = found
            text = " ".join((text[:start] + " " + text[end:]).split())
        if search := SEARCH_QUESTION.match(text):
            topic = search["topic"] or search["t2"] or search["t3"]
            return SearchIntent(topic=topic.strip(), time_range=time_range,
                                external_only=search["who"] in OUTSIDERS)  # fmt: skip
        words = Words(text.split(), [stem(w) for w in text.split()])
        matches = self._match_values(words)
        words.stems = [s if words.used[i] else repair(s, self.vocabulary)
                       for i, s in enumerate(words.stems)]  # fmt: skip
        grain = self._grain(words, time_range)
        order_desc, limit = self._ranking(words)
        dims = self._group_dimensions(words, ranked=order_desc is not None)
        metrics = self._metrics(words, question)
        model = self.layer.metrics[metrics[0]].model
        filters = self._filters(matches, model, metrics[0], question)
        dims += self._loose_dimensions(words, model)
        if "who" in words.raw and order_desc is not None and not dims:
            dims = [d for d, spec in self.layer.models[model].dimensions.items() if spec.person][:1]
        self._refuse_leftovers(words, question, metrics)
        if order_desc is not None and not dims and grain is None:
            label = self.layer.metrics[metrics[0]].label
            raise not_understood(
                self.layer,
                question,
                "a ranking needs something to rank",
                extra=[f"top 5 owners by {label}", f"{label} by month"],
            )
        return StructuredQuery(
            metrics=metrics, dimensions=list(dict.fromkeys(dims)), filters=filters,
            time_range=time_range, grain=grain,
            order=Order(by=metrics[0], desc=order_desc) if order_desc is not None else None,
            limit=limit,
        )  # fmt: skip

    def _match_values(self, words: Words) -> list[_ValueMatch]:
        matches: list[_ValueMatch] = []
        for size in (4, 3, 2, 1):
            for start in range(len(words.raw) - size + 1):
                end = start + size
                if not words.free(start, end):
                    continue
                phrase_words = words.raw[start:end]
                if all(w in STOPWORDS or w.isdigit() for w in phrase_words):
                    continue
                phrase = " ".join(phrase_words)
                candidates = self.values.exact(phrase)
                known = all(stem(w) in self.vocabulary or w in STOPWORDS for w in phrase_words)
                if not candidates and not known:
                    candidates = self.values.fuzzy(phrase)
                if candidates and known and not self._named_nearby(words, start, end, candidates):
                    continue  # "closed won", "sales": ordinary words unless the dimension is named
                if candidates:
                    words.take(start, end)
                    matches.append(_ValueMatch(start, end, candidates))
                    self._take_dimension_word(words, start, end, candidates)
        return matches

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

    def _named_nearby(
        self, words: Words, start: int, end: int, cands: set[tuple[str, str, str]]
    ) -> bool:
        dims = {dim for _, dim, _ in cands}
        for i in range(max(0, start - 3), min(len(words.raw), end + 3)):
            found = self._dimension_at(words, i)
            if found and found[0] in dims and not (start <= i < end):
                return True
        return False

    def _take_dimension_word(self, words: Words, start: int, end: int,
                             cands: set[tuple[str, str, str]]) -> None:  # fmt: skip
        dims = {dim for _, dim, _ in cands}
        before = [i for i in range(max(0, start - 3), start) if words.raw[i] not in STOPWORDS]
        for i in [*before[-1:], end]:
            found = self._dimension_at(words, i) if i < len(words.raw) else None
            if found and found[0] in dims:
                words.take(i, i + found[1])

    def _grain(self, words: Words, time_range: timephrases.TimeRange | None) -> str | None:
        for i, word in enumerate(words.stems):
            if words.used[i]:
                continue
            if word in GRAIN_WORDS:
                words.take(i, i + 1)
                return GRAIN_WORDS[word]
            leads = GROUP_LEADS | set(RANK_WORDS) | {"a", "the"}
            if word in GRAINS and i > 0 and words.raw[i - 1] in leads:
                words.take(i if words.raw[i - 1] in RANK_WORDS else i - 1, i + 1)
                return word
        text = " ".join(w if not u else "_" for w, u in zip(words.raw, words.used, strict=True))
        for phrase in TREND_WORDS:
            if re.search(rf"\b{phrase}s?\b", text):
                for i, word in enumerate(words.raw):
                    if word.rstrip("s") in phrase.split() and not words.used[i]:
                        words.take(i, i + 1)
                return time_range.grain if time_range else "month"
        return None

    def _ranking(self, words: Words) -> tuple[bool | None, int | None]:
        for i, word in enumerate(words.raw):
            if words.used[i] or word not in RANK_WORDS:
                continue
            desc, limit = RANK_WORDS[word]
            words.take(i, i + 1)
            if i + 1 < len(words.raw) and words.raw[i + 1].isdigit() and not words.used[i + 1]:
                limit = int(words.raw[i + 1])
                words.take(i + 1, i + 2)
            return desc, limit
        return None, None

    def _group_dimensions(self, words: Words, *, ranked: bool) -> list[str]:
        dims = []
        for i in range(len(words.raw)):
            lead = i > 0 and (words.raw[i - 1] in GROUP_LEADS or words.raw[i - 1].isdigit()
                              or words.raw[i - 1] in RANK_WORDS)  # fmt: skip
            found = self._dimension_at(words, i) if lead else None
            if found:
                dims.append(found[0])
                words.take(i, i + found[1])
        return dims

    def _loose_dimensions(self, words: Words, model: str) -> list[str]:
        dims = []
        for i in range(len(words.raw)):
            found = self._dimension_at(words, i)
            if found and found[0] in self.layer.models[model].dimensions:
                dims.append(found[0])
                words.take(i, i + found[1])
        return dims

    def _metrics(self, words: Words, question: str) -> list[str]:
        chosen: list[str] = []
        first_word: dict[str, int] = {}
        while True:
            best: tuple[int, int, int, str, list[int]] | None = None
            free = [(i, s) for i, s in enumerate(words.stems) if not words.used[i]]
            for phrase, name in self.metric_phrases:
                positions = place(phrase, free)
                if positions is None or name in chosen:
                    continue
                content = [p for p in phrase if p not in STOPWORDS]  # "number of" adds nothing
                contiguous = positions == list(range(positions[0], positions[0] + len(phrase)))
                score = (len(content), int(contiguous), sum(len(p) for p in phrase))
                if best is None or score > best[:3]:
                    best = (*score, name, positions)
            if best is None:
                break
            chosen.append(best[3])
            first_word[best[3]] = min(best[4])
            for i in best[4]:
                words.used[i] = True
            if "and" not in [w for i, w in enumerate(words.raw) if not words.used[i]]:
                break
        if not chosen:
            raise not_understood(self.layer, question, "no metric I know is named in the question")
        return sorted(chosen, key=first_word.__getitem__)  # in the order they were asked

    def _filters(self, matches: list[_ValueMatch], model: str, metric: str,
                 question: str) -> list[Filter]:  # fmt: skip
        by_dim: dict[str, list[str]] = {}
        for match in matches:
            fitting = sorted((d, v) for m, d, v in match.candidates if m == model)
            if not fitting:
                _, dim, value = sorted(match.candidates)[0]
                label = self.layer.metrics[metric].label
                raise not_understood(
                    self.layer, question,
                    f"{value!r} is a {self.layer.dimensions[dim].label}, which {label} "
                    f"cannot be filtered by",
                )  # fmt: skip
            dim, value = fitting[0]
            by_dim.setdefault(dim, [])
            if value not in by_dim[dim]:
                by_dim[dim].append(value)
        return [Filter(dimension=d, values=v) for d, v in by_dim.items()]

    def _refuse_leftovers(self, words: Words, question: str, metrics: list[str]) -> None:
        allowed = {stem(w) for m in metrics for syn in self.layer.metrics[m].synonyms
                   for w in syn.split()}  # fmt: skip
        allowed |= {"deal", "task", "call", "message", "slack", "gong", "hubspot", "asana"}
        left = [w for i, w in enumerate(words.raw) if not words.used[i]
                and w not in STOPWORDS and words.stems[i] not in STOPWORDS
                and words.stems[i] not in allowed]  # fmt: skip
        if left:
            raise not_understood(
                self.layer, question, f"I do not know what {' '.join(left)!r} means here"
            )
