"""Shape recognisers: the words that make a question a series, a ranking, a list of records,
a threshold on rows or on groups, or a question about rows without an owner.
"""

from __future__ import annotations

import re

from sophia_cli.core.bi import shapes, timephrases
from sophia_cli.core.bi.parse_lexicon import Lexicon
from sophia_cli.core.bi.structured import MeasureFilter, MetricFilter
from sophia_cli.core.bi.suggest import not_understood
from sophia_cli.core.bi.vocabulary import (
    ACTIVITY_RANKS,
    GRAIN_WORDS,
    GRAINS,
    GROUP_LEADS,
    RANK_WORDS,
    TREND_WORDS,
    Words,
    stem,
)

# "show me the deals", "give us all open tasks", "what are the deals": words asking to see
# records; the words that may sit between them and the records' noun; nouns that make the
# phrase a number after all ("the deals count").
SHOW_WORDS = {"show", "give", "display", "pull", "see", "view"}
RECORD_LEADS = {"me", "us", "up", "are", "were", "the", "all", "our", "of", "my", "those", "these"}
NUMBER_NOUNS = {"count", "number", "total", "value", "amount", "sum", "revenue", "rate"}


class ShapeRules(Lexicon):
    """Reading the shape of the answer a question asks for."""

    def _grain(self, words: Words, time_range: timephrases.TimeRange | None) -> str | None:
        for i, word in enumerate(words.stems):
            if words.used[i]:
                continue
            if word in GRAIN_WORDS:
                words.take(i, i + 1, "grain")
                return GRAIN_WORDS[word]
            leads = GROUP_LEADS | set(RANK_WORDS) | {"a", "the"}
            if word in GRAINS and i > 0 and words.raw[i - 1] in leads:
                words.take(i if words.raw[i - 1] in RANK_WORDS else i - 1, i + 1, "grain")
                return word
        text = " ".join(w if not u else "_" for w, u in zip(words.raw, words.used, strict=True))
        for phrase in TREND_WORDS:
            if re.search(rf"\b{phrase}s?\b", text):
                for i, word in enumerate(words.raw):
                    if word.rstrip("s") in phrase.split() and not words.used[i]:
                        words.take(i, i + 1, "grain")
                return time_range.grain if time_range else "month"
        return None

    def _ranking(self, words: Words) -> tuple[bool | None, int | None]:
        for i, word in enumerate(words.raw):
            if words.used[i] or word not in RANK_WORDS:
                continue
            desc, limit = RANK_WORDS[word]
            words.take(i, i + 1, "ranking")
            if i + 1 < len(words.raw) and words.raw[i + 1].isdigit() and not words.used[i + 1]:
                limit = int(words.raw[i + 1])
                words.take(i + 1, i + 2, "ranking")
            return desc, limit
        return None, None

    def _listing(self, words: Words) -> bool:
        """ "list the deals…", "which deals closed this week", "show me the deals we won",
        "what are our open deals": the records themselves, not a number."""
        nouns = set().union(*self.nouns.values())

        def records_at(j: int) -> bool:
            """Whether the model's rows are named from `j` on: "the deals", "all open deals"
            ("the number of deals" or "the deal count" names a number instead)."""
            while j < len(words.raw) and words.raw[j] in RECORD_LEADS:
                j += 1
            if j + 1 < len(words.raw) and stem(words.raw[j]) in self.vocabulary - nouns:
                j += 1  # one word of the layer first: "open deals", "won deals"
            plural = j < len(words.raw) and stem(words.raw[j]) in nouns
            plural = plural and words.raw[j].endswith("s")
            number_next = any(w in NUMBER_NOUNS for w in words.raw[j + 1 : j + 3])
            return plural and not number_next

        if {"many", "much"} & set(words.raw):
            return False  # "show me how many deals we won": a count
        for i, word in enumerate(words.raw):
            asks = word in SHOW_WORDS or word in ("which", "what")
            if word == "list" or (asks and records_at(i + 1)):
                words.take(i, i + 1, "list")
                return True
        return False

    def _ranked_rows(self, words: Words, model: str, desc: bool | None, dims: list[str],
                     grain: str | None) -> str | None:  # fmt: skip
        """The measure to rank rows by when a ranking names records, not groups ("the
        biggest deal we won", "top 5 open deals"): the model's noun is asked, nothing groups."""
        spec = self.layer.models[model]
        if desc is None or dims or grain or not spec.list_columns or len(spec.measures) != 1:
            return None
        if not any(stem(w) in self.nouns[model] for w in words.raw):
            return None
        return next(iter(spec.measures))

    def _activity(self, words: Words, ranked: bool | None, dims: list[str]) -> str | None:
        """ "the busiest channel": the activity count of the one model the named dimension or
        noun belongs to, or None."""
        if ranked is None or not any(w in ACTIVITY_RANKS for w in words.raw):
            return None
        named = {d[0] for i in range(len(words.raw)) if (d := self._dimension_at(words, i))}
        named |= set(dims)
        models = [name for name, m in self.layer.models.items() if m.activity and (
            any(dim in m.dimensions for dim in named)
            or any(stem(w) in self.nouns[name] for w in words.raw))]  # fmt: skip
        owning = [m for m in models if all(d in self.layer.models[m].dimensions for d in named)]
        if len(owning) != 1:
            return None
        for i, word in enumerate(words.raw):
            if word in ACTIVITY_RANKS and word not in RANK_WORDS:  # "most active": the count
                words.take(i, i + 1, "metric")
        return self.layer.models[owning[0]].activity

    def _metric_filters(self, words: Words, limits: list[shapes.Threshold]) -> list[MetricFilter]:
        """ "more than 10 deals": a threshold followed by a metric phrase filters groups."""
        kept = []
        measure_words = {stem(w) for m in self.layer.models.values()
                         for measure in m.measures.values() for w in measure.words}  # fmt: skip
        for limit in limits:
            if limit.after < len(words.stems) and words.stems[limit.after] in measure_words:
                # "longer than 30 minutes" compares each call, not a total
                words.take(limit.after, limit.after + 1, "threshold")
                continue
            for phrase, name in sorted(self.metric_phrases, key=lambda p: -len(p[0])):
                if limit.money and self.layer.metrics[name].format != "currency":
                    continue  # "over 50k lost": the amount of each lost deal
                end = limit.after + len(phrase)
                if tuple(words.stems[limit.after : end]) == phrase and words.free(limit.after, end):
                    words.take(limit.after, end, "threshold")
                    kept.append(MetricFilter(metric=name, op=limit.op, value=limit.value))
                    limit.after = -1  # used
                    break
        return kept

    def _measure_filters(self, words: Words, limits: list[shapes.Threshold], model: str,
                         question: str) -> list[MeasureFilter]:  # fmt: skip
        """ "deals over 50k", "calls longer than 30 minutes": a number compared per row."""
        measures = self.layer.models[model].measures
        found = []
        for limit in limits:
            if limit.after < 0:
                continue
            named = None
            window = range(max(0, limit.after - 4), min(len(words.raw), limit.after + 2))
            for name, measure in measures.items():
                own = {stem(w) for w in measure.words}
                near = [i for i in window if not words.used[i] and stem(words.raw[i]) in own]
                if near:
                    named = name
                    for i in near:
                        words.take(i, i + 1, "threshold")
                    break
            if named is None and len(measures) == 1:
                named = next(iter(measures))
            if named is None:
                reason = "I cannot tell which number the threshold compares"
                raise not_understood(self.layer, question, reason)
            found.append(MeasureFilter(measure=named, op=limit.op, value=limit.value))
        return found

    def _missing(self, words: Words, model: str) -> list[str]:
        """ "without an owner", "with no assignee": the dimension is empty."""
        missing = []
        for i in range(len(words.raw)):
            j = shapes.missing_at(words, i)
            found = self._dimension_at(words, j) if j is not None else None
            if j is not None and found and found[0] in self.layer.models[model].dimensions:
                lead = i - 1 if i > 0 and words.raw[i - 1] == "with" and words.free(i - 1, i) else i
                words.take(lead, j + found[1], "missing")
                missing.append(found[0])
        return missing

    def _unassigned(self, words: Words) -> bool:
        """Whether the question asks to keep rows without an owner/assignee in a ranking."""
        for i, word in enumerate(words.raw):
            if not words.used[i] and word in ("unassigned", "nobody", "unowned"):
                lead = i > 0 and words.raw[i - 1] in ("including", "incl", "with", "plus")
                words.take(i - 1 if lead else i, i + 1, "ranking")
                return True
        return False

    def _refuse_vague_threshold(self, words: Words, question: str) -> None:
        """ "calls over an hour", "deals above a million": a comparator without a number
        would be dropped ("over" is also an ordinary word), so the question is refused."""
        for i in range(len(words.raw)):
            for phrase in shapes.COMPARATORS:
                j = i + len(phrase.split())
                if (words.raw[i:j] == phrase.split() and j < len(words.raw)
                        and words.raw[j] in ("a", "an") and words.free(i, j + 1)):  # fmt: skip
                    said = " ".join(words.raw[i : j + 2])
                    raise not_understood(
                        self.layer, question,
                        f"{said!r} needs a number to compare with, e.g. 'longer than 60 minutes'",
                    )  # fmt: skip

    def _counted_dimension(self, words: Words) -> str | None:
        """The dimension "how many" counts ("how many owners have open deals"), or None."""
        for i in range(len(words.raw) - 2):
            if words.raw[i : i + 2] == ["how", "many"] and words.parts[i + 2] == "dimension":
                found = self._dimension_at_used(words, i + 2)
                return found
        return None

    def _dimension_at_used(self, words: Words, start: int) -> str | None:
        for size in (3, 2, 1):
            phrase = tuple(words.stems[start : start + size])
            if len(phrase) == size and phrase in self.dim_phrases:
                return self.dim_phrases[phrase]
        return None

    def _refuse_per_record(self, words: Words, question: str) -> None:
        """ "won revenue per deal": a number per record is an average the layer must name;
        "per" and the model's noun would otherwise both be dropped."""
        for i in range(len(words.raw) - 1):
            if words.raw[i] in ("per", "each", "every") and words.parts[i + 1] == "model":
                said = f"{words.raw[i]} {words.raw[i + 1]}"
                raise not_understood(
                    self.layer, question,
                    f"{said!r} asks for a number per record; ask for an average the layer "
                    "names, e.g. 'average won deal size'",
                )  # fmt: skip
