"""Names of the data in a question: exact matches anywhere first, then typo-tolerant ones;
words that also mean something else to the layer wait until the question's model says which.
"""

from __future__ import annotations

from dataclasses import dataclass

from sophia_cli.core.bi import shapes
from sophia_cli.core.bi.parse_lexicon import Lexicon
from sophia_cli.core.bi.structured import Filter
from sophia_cli.core.bi.suggest import not_understood
from sophia_cli.core.bi.values import normalise
from sophia_cli.core.bi.vocabulary import STOPWORDS, Words, stem


@dataclass
class ValueMatch:
    start: int
    end: int
    candidates: set[tuple[str, str, str]]
    # Words that also mean something else to the layer ("customers": the company dimension,
    # and a lifecycle stage): a value only once the question's model says which.
    deferred: bool = False


class NameRules(Lexicon):
    """Finding the data's names in a question and turning them into filters."""

    def _inside_name(self, text: str, start: int, end: int) -> bool:
        """Whether the time phrase at [start, end) is part of a longer name in the data."""
        first = len(text[:start].split())
        last = first + len(text[start:end].split())
        words = text.split()
        for lo in range(max(0, first - 3), last):
            for hi in range(max(lo + 1, first + 1), min(len(words), last + 3) + 1):
                outside = lo < first or hi > last  # the name reaches past the phrase
                if outside and self.values.exact(normalise(" ".join(words[lo:hi]))):
                    return True
        return False

    def _match_values(self, words: Words) -> list[ValueMatch]:
        """Names of the data in the question: exact ones anywhere first, longest first; only
        then typo-tolerant ones, so "financial services" (an industry) is never lost to a
        company whose name is one letter away."""
        matches: list[ValueMatch] = []
        for fuzzy in (False, True):
            for size in (4, 3, 2, 1):
                for start in range(len(words.raw) - size + 1):
                    if found := self._value_at(words, start, start + size, fuzzy=fuzzy):
                        matches.append(found)
        return matches

    def _value_at(self, words: Words, start: int, end: int, *, fuzzy: bool) -> ValueMatch | None:
        if not words.free(start, end):
            return None
        phrase_words = words.raw[start:end]
        if all(w in STOPWORDS or w.isdigit() for w in phrase_words):
            return None
        if phrase_words[0] in STOPWORDS or phrase_words[-1] in STOPWORDS:
            return None  # "in acme" is "acme"; the shorter phrase will find it
        phrase = normalise(" ".join(phrase_words))
        known = all(stem(w) in self.vocabulary or w in STOPWORDS for w in phrase_words)
        if fuzzy:
            candidates = self.values.fuzzy(phrase) if not known else set()
        else:
            candidates = self.values.exact(phrase)
        if not candidates:
            return None
        if known and not self._named_nearby(words, start, end, candidates):
            # "closed won", "sales", "customers": ordinary words unless the dimension is
            # named, or the question's model has them as a value and nothing else took them
            return None if fuzzy else ValueMatch(start, end, candidates, deferred=True)
        dims = sorted({dim for _, dim, _ in candidates})
        words.take(start, end, "filter:" + "/".join(dims))
        self._take_dimension_word(words, start, end, candidates)
        return ValueMatch(start, end, candidates)

    def _settle_deferred(self, words: Words, deferred: list[ValueMatch],
                         model: str) -> list[ValueMatch]:  # fmt: skip
        """Ordinary words still free once the model is known that name one of its values:
        "how many contacts are customers" → lifecycle stage customer, not a breakdown by
        company (the dimension "customers" also names)."""
        settled = []
        for match in deferred:
            fitting = {c for c in match.candidates if c[0] == model}
            if fitting and words.free(match.start, match.end):
                dims = sorted({dim for _, dim, _ in fitting})
                words.take(match.start, match.end, "filter:" + "/".join(dims))
                settled.append(ValueMatch(match.start, match.end, fitting))
        return settled

    def _refuse_two_meanings(self, words: Words, deferred: list[ValueMatch], metric: str,
                             question: str) -> None:  # fmt: skip
        """A word the metric was read from that the layer also declares as a value of another
        model ("opportunities": deals, or contacts whose lifecycle stage is opportunity) is
        ambiguous: ask which, never pick one."""
        model = self.layer.metrics[metric].model
        metric_at = [i for i, part in enumerate(words.parts) if part == "metric"]
        for match in deferred:
            if metric_at != list(range(match.start, match.end)):
                continue  # the metric has words of its own ("open opportunities")
            phrase = normalise(" ".join(words.raw[match.start : match.end]))
            other = sorted((m, d, v) for m, d, v in self.values.synonyms.get(phrase, ())
                           if m != model)  # fmt: skip
            if other:
                owner, dim, value = other[0]
                rows = next(m.label for m in self.layer.metrics.values() if m.model == owner)
                raise not_understood(
                    self.layer, question,
                    f"{phrase!r} may mean {self.layer.metrics[metric].label} or {rows} whose "
                    f"{self.layer.dimensions[dim].label} is {value}; say which",
                )  # fmt: skip

    def _count_of_values(self, matches: list[ValueMatch]) -> str | None:
        """ "how many leads": no metric is named, but every name matched is a value of one
        model; its plain row count (no condition of its own), or None."""
        models = {m for match in matches for m, _, _ in match.candidates}
        if len(models) != 1:
            return None
        model = next(iter(models))
        counts = [name for name, m in self.layer.metrics.items()
                  if m.model == model and m.ratio is None and not m.where
                  and m.expr.replace(" ", "").lower() == "count(*)"]  # fmt: skip
        return counts[0] if counts else None

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
                words.take(i, i + found[1], "filter:" + found[0])

    def _filters(self, words: Words, matches: list[ValueMatch], model: str, metric: str,
                 question: str) -> list[Filter]:  # fmt: skip
        by_dim: dict[tuple[str, bool], list[str]] = {}
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
            key = (dim, shapes.excluded_before(words, match.start))
            by_dim.setdefault(key, [])
            if value not in by_dim[key]:
                by_dim[key].append(value)
        return [Filter(dimension=d, values=v, exclude=x) for (d, x), v in by_dim.items()]
