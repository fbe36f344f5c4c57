"""The deterministic parser: a question to a structured query, or a clear refusal.

Order of work: a search question is recognised first; then the time phrase is cut out; names
that exist in the data are matched (exact anywhere in the question first, then typo-tolerant);
grain, ranking and "by X" dimensions are read; the metric is the synonym that covers the most
words ("how much" prefers amounts, "how many" counts); the model's own nouns, the metric's
agreeing words and the verbs naming one of the model's dates ("created", "due") are placed.
Any word left over that means something is a reason to refuse, never to guess; every used
word is recorded with the part of the query it went to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sophia_cli.core.bi import compare, shapes, timephrases
from sophia_cli.core.bi.semantic import SemanticLayer
from sophia_cli.core.bi.structured import (
    Filter,
    MeasureFilter,
    MetricFilter,
    Order,
    StructuredQuery,
)
from sophia_cli.core.bi.suggest import not_understood
from sophia_cli.core.bi.values import ValueIndex, normalise
from sophia_cli.core.bi.vocabulary import (
    ACTIVITY_RANKS,
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
from sophia_cli.core.errors import NotUnderstoodError

# "show me the deals", "give us all open tasks", "what are the deals": words asking to see
# records; the words that may sit between them and the records' noun; nouns that make the
# phrase a number after all ("the deals count").
SHOW_WORDS = {"show", "give", "display", "pull", "see", "view"}
RECORD_LEADS = {"me", "us", "up", "are", "were", "the", "all", "our", "of", "my", "those", "these"}
NUMBER_NOUNS = {"count", "number", "total", "value", "amount", "sum", "revenue", "rate"}


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
    # Words that also mean something else to the layer ("customers": the company dimension,
    # and a lifecycle stage): a value only once the question's model says which.
    deferred: bool = False


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

    def parse(self, question: str, cal: timephrases.Calendar) -> StructuredQuery | SearchIntent:
        """The structured query for `question`; NotUnderstoodError with suggestions if none."""
        text = normalise_question(question)
        if not text:
            raise not_understood(self.layer, question, "the question is empty")
        time_range = None
        comparison: compare.Comparison | None = None
        time_words: list[str] = []
        found = timephrases.find(text, cal)
        if found and self._inside_name(text, *found[1]):
            found = None  # "Q3 Website Relaunch" is a project, not a quarter
        implied = compare.implied(text, found[0], found[1], cal) if found else None
        if found and implied:
            time_range, comparison, text = implied
            time_words = ["this", found[0].phrase.split()[-1]]
            found = None
        if found:
            time_range, (start, end) = found
            time_words = text[start:end].split()
            text = " ".join((text[:start] + " " + text[end:]).split())
        if search := SEARCH_QUESTION.match(text):
            topic = search["topic"] or search["t2"] or search["t3"]
            return SearchIntent(topic=topic.strip(), time_range=time_range,
                                external_only=search["who"] in OUTSIDERS)  # fmt: skip
        if not implied:
            time_range, comparison, text = compare.find(text, time_range, cal)
        if comparison is None and compare.MARKS & set(text.split()):
            raise not_understood(self.layer, question, "a comparison needs two periods",
                                 extra=["won revenue this quarter vs last quarter",
                                        "deals won yoy"])  # fmt: skip
        words = Words(text.split(), [stem(w) for w in text.split()])
        listing = self._listing(words)
        limits = shapes.thresholds(words)
        matches = self._match_values(words)
        deferred = [m for m in matches if m.deferred]
        matches = [m for m in matches if not m.deferred]
        words.stems = [s if words.used[i] else repair(s, self.vocabulary)
                       for i, s in enumerate(words.stems)]  # fmt: skip
        share = shapes.share_words(words)
        grain = self._grain(words, time_range)
        order_desc, limit = self._ranking(words)
        dims = self._group_dimensions(words, ranked=order_desc is not None)
        kept = self._metric_filters(words, limits)
        if kept:
            dims += self._loose_dimensions(words, self.layer.metrics[kept[0].metric].model)
        try:
            metrics = self._metrics(words, question)
        except NotUnderstoodError:
            busiest = self._activity(words, order_desc, dims) if not kept else None
            counted = self._count_of_values(matches) if not kept and busiest is None else None
            if not kept and busiest is None and counted is None:
                raise
            # "companies with more than 10 deals"; "how many leads": the model's rows
            metrics = [busiest or counted or kept[0].metric]
        model = self.layer.metrics[metrics[0]].model
        self._refuse_two_meanings(words, deferred, metrics[0], question)
        adjectives = self._adjectives(words, model)  # before "projects" reads as a dimension
        matches += self._settle_deferred(words, deferred, model)
        filters = self._filters(words, matches, model, metrics[0], question)
        missing = self._missing(words, model)
        dims += self._loose_dimensions(words, model)
        if "who" in words.raw and order_desc is not None and not dims:
            dims = [d for d, spec in self.layer.models[model].dimensions.items() if spec.person][:1]
        unassigned = self._unassigned(words)
        keep_unassigned = unassigned and order_desc is not None
        if unassigned and order_desc is None:
            missing += self._person(model)[:1]  # "unassigned open tasks": nobody's
        measured = self._measure_filters(words, limits, model, question)
        self._agreeing_words(words, model, metrics)
        time_by = self._time_by(words, model, metrics[0], question)
        if refined := self._refined(words, model, metrics):
            # "deals created last month that are still open": open deals, by creation date
            own = self.layer.time_of(metrics[0], time_by)[0]
            dated = [k for k, t in self.layer.models[model].times.items() if t.column == own]
            metrics, time_by = [refined], dated[0] if dated else time_by
        self._refuse_leftovers(words, question, metrics)
        if listing and (dims or grain or order_desc is not None or comparison or share):
            listing = False  # "list open deals by owner" is a breakdown
        if kept and not dims:
            raise not_understood(self.layer, question,
                                 "a condition on a count or total needs groups to keep, "
                                 "e.g. 'companies with more than 10 deals'")  # fmt: skip
        if share and not filters and not dims:
            raise not_understood(
                self.layer, question, "a share needs a part, e.g. 'share of won revenue from Acme'"
            )
        ranked_rows = self._ranked_rows(words, model, order_desc, dims, grain)
        if ranked_rows is not None:
            listing, limit = True, limit or 5  # "the biggest deal we won": the row itself
        if order_desc is not None and not dims and grain is None and ranked_rows is None:
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
            limit=limit, time_by=time_by, keep_unassigned=keep_unassigned, missing=missing,
            adjectives=adjectives,
            measure_filters=measured, metric_filters=kept, share=share, list_rows=listing,
            list_order=ranked_rows,
            compare_to=comparison.previous if comparison else None,
            words={**({"time": time_words} if time_words else {}),
                   **({"compare": comparison.words} if comparison else {}), **words.by_part()},
        )  # fmt: skip

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

    def _match_values(self, words: Words) -> list[_ValueMatch]:
        """Names of the data in the question: exact ones anywhere first, longest first; only
        then typo-tolerant ones, so "financial services" (an industry) is never lost to a
        company whose name is one letter away."""
        matches: list[_ValueMatch] = []
        for fuzzy in (False, True):
            for size in (4, 3, 2, 1):
                for start in range(len(words.raw) - size + 1):
                    if found := self._value_at(words, start, start + size, fuzzy=fuzzy):
                        matches.append(found)
        return matches

    def _value_at(self, words: Words, start: int, end: int, *, fuzzy: bool) -> _ValueMatch | None:
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
            return None if fuzzy else _ValueMatch(start, end, candidates, deferred=True)
        dims = sorted({dim for _, dim, _ in candidates})
        words.take(start, end, "filter:" + "/".join(dims))
        self._take_dimension_word(words, start, end, candidates)
        return _ValueMatch(start, end, candidates)

    def _settle_deferred(self, words: Words, deferred: list[_ValueMatch],
                         model: str) -> list[_ValueMatch]:  # fmt: skip
        """Ordinary words still free once the model is known that name one of its values:
        "how many contacts are customers" → lifecycle stage customer, not a breakdown by
        company (the dimension "customers" also names)."""
        settled = []
        for match in deferred:
            fitting = {c for c in match.candidates if c[0] == model}
            if fitting and words.free(match.start, match.end):
                dims = sorted({dim for _, dim, _ in fitting})
                words.take(match.start, match.end, "filter:" + "/".join(dims))
                settled.append(_ValueMatch(match.start, match.end, fitting))
        return settled

    def _refuse_two_meanings(self, words: Words, deferred: list[_ValueMatch], metric: str,
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

    def _count_of_values(self, matches: list[_ValueMatch]) -> str | None:
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
                words.take(i, i + found[1], "filter:" + found[0])

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

    def _group_dimensions(self, words: Words, *, ranked: bool) -> list[str]:
        dims = []
        for i in range(len(words.raw)):
            lead = i > 0 and (words.raw[i - 1] in GROUP_LEADS or words.raw[i - 1].isdigit()
                              or words.raw[i - 1] in RANK_WORDS)  # fmt: skip
            found = self._dimension_at(words, i) if lead else None
            if found and not self._metric_starts_at(words, i, found[1]):
                dims.append(found[0])
                words.take(i, i + found[1], "dimension")
        return dims

    def _loose_dimensions(self, words: Words, model: str) -> list[str]:
        dims = []
        for i in range(len(words.raw)):
            found = self._dimension_at(words, i)
            if found and i > 0 and words.parts[i - 1].startswith("filter:"):
                # "healthcare companies": the noun of the name just matched, not a breakdown
                words.take(i, i + found[1], words.parts[i - 1])
            elif found and found[0] in self.layer.models[model].dimensions:
                dims.append(found[0])
                words.take(i, i + found[1], "dimension")
        return dims

    def _metric_starts_at(self, words: Words, start: int, size: int) -> bool:
        """Whether a longer metric phrase starts here: "by pipeline value" names a metric."""
        for phrase, _ in self.metric_phrases:
            if len(phrase) > size and tuple(words.stems[start : start + len(phrase)]) == phrase:
                return words.free(start, start + len(phrase))
        return False

    def _unit_fit(self, words: Words, metric: str) -> int:
        """1 when the metric is the kind of number asked for: "how much" an amount or a
        duration, "how many" a count; 0 otherwise."""
        counted = self.layer.metrics[metric].format == "number"
        if "much" in words.raw:
            return int(not counted)
        if "many" in words.raw:
            return int(counted)
        return 0

    def _metrics(self, words: Words, question: str) -> list[str]:
        chosen: list[str] = []
        first_word: dict[str, int] = {}
        while True:
            best: tuple[int, int, int, int, str, list[int]] | None = None
            free = [(i, s) for i, s in enumerate(words.stems) if not words.used[i]]
            for phrase, name in self.metric_phrases:
                positions = place(phrase, free)
                if positions is None or name in chosen:
                    continue
                content = [p for p in phrase if p not in STOPWORDS]  # "number of" adds nothing
                contiguous = positions == list(range(positions[0], positions[0] + len(phrase)))
                fit = self._unit_fit(words, name)
                # Ties go to the phrase asked first: "won revenue from deals created …" is
                # about revenue; the later noun phrase qualifies it.
                score = (len(content), fit, int(contiguous), -positions[0])
                if best is None or score > best[:4]:
                    best = (*score, name, positions)
            if best is None:
                break
            chosen.append(best[4])
            first_word[best[4]] = min(best[5])
            for i in best[5]:
                words.take(i, i + 1, "metric")
            if "and" not in [w for i, w in enumerate(words.raw) if not words.used[i]]:
                break
        if not chosen:
            raise not_understood(self.layer, question, "no metric I know is named in the question")
        return sorted(chosen, key=first_word.__getitem__)  # in the order they were asked

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
            number_next = j + 1 < len(words.raw) and words.raw[j + 1] in NUMBER_NOUNS
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
        return self.layer.models[owning[0]].activity if len(owning) == 1 else None

    def _refined(self, words: Words, model: str, metrics: list[str]) -> str | None:
        """The one sibling of an unconditioned count that a leftover adjective names ("open",
        "overdue"), or None; the adjective's word is taken."""
        first = self.layer.metrics[metrics[0]]
        if len(metrics) > 1 or first.where:
            return None
        for i, word in enumerate(words.stems):
            # Adjectives only: "closed"/"won" also date the rows ("created and closed last
            # month" names two dates), so a verb never refines silently.
            if words.used[i] or word in STOPWORDS or word.endswith("ed") or word in ("won", "lost"):
                continue
            siblings = [
                name for name, m in self.layer.metrics.items()
                if m.model == model and m.expr == first.expr and m.where
                and any(s.split() == [words.raw[i], *n.split()] for s in m.synonyms
                        for n in self.layer.models[model].nouns)
            ]  # fmt: skip
            if len(siblings) == 1:
                words.take(i, i + 1, "metric")
                return siblings[0]
        return None

    def _person(self, model: str) -> list[str]:
        return [d for d, spec in self.layer.models[model].dimensions.items() if spec.person]

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

    def _filters(self, words: Words, matches: list[_ValueMatch], model: str, metric: str,
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

    def _unassigned(self, words: Words) -> bool:
        """Whether the question asks to keep rows without an owner/assignee in a ranking."""
        for i, word in enumerate(words.raw):
            if not words.used[i] and word in ("unassigned", "nobody", "unowned"):
                lead = i > 0 and words.raw[i - 1] in ("including", "incl", "with", "plus")
                words.take(i - 1 if lead else i, i + 1, "ranking")
                return True
        return False

    def _adjectives(self, words: Words, model: str) -> list[str]:
        """The model's adjectives the question uses ("archived projects", "private")."""
        found: list[str] = []
        for phrase, name in self.adjectives[model]:
            for k in range(len(words.stems) - len(phrase) + 1):
                if words.free(k, k + len(phrase)) and (
                    tuple(words.stems[k : k + len(phrase)]) == phrase
                ):
                    words.take(k, k + len(phrase), "adjective")
                    found.append(name)
        return list(dict.fromkeys(found))

    def _agreeing_words(self, words: Words, model: str, metrics: list[str]) -> None:
        """The model's nouns ("deal") and the metric's own words ("open", "booked")."""
        agreeing = set().union(*(self.agreeing[m] for m in metrics))
        for i, word in enumerate(words.stems):
            if words.used[i]:
                continue
            if word in self.nouns[model]:
                words.take(i, i + 1, "model")
            elif word in agreeing:
                words.take(i, i + 1, "metric")

    def _time_by(self, words: Words, model: str, metric: str, question: str) -> str | None:
        """The model date a verb names ("created", "due") when it is not the metric's own."""
        named = {
            self.time_words[model][s]: i
            for i, s in enumerate(words.stems)
            if not words.used[i] and s in self.time_words[model]
        }
        for i in named.values():
            words.take(i, i + 1, "date")
        if len(named) > 1:
            labels = " and ".join(self.layer.models[model].times[k].label for k in named)
            raise not_understood(
                self.layer, question, f"the question names two dates ({labels}); ask by one"
            )
        if not named:
            return None
        key = next(iter(named))
        own, _ = self.layer.time_of(metric)
        return None if self.layer.models[model].times[key].column == own else key

    def _refuse_leftovers(self, words: Words, question: str, metrics: list[str]) -> None:
        allowed = {stem(w) for m in metrics for syn in self.layer.metrics[m].synonyms
                   for w in syn.split()}  # fmt: skip
        left = [w for i, w in enumerate(words.raw) if not words.used[i]
                and w not in STOPWORDS and words.stems[i] not in STOPWORDS
                and words.stems[i] not in allowed]  # fmt: skip
        if left:
            raise not_understood(
                self.layer, question, f"I do not know what {' '.join(left)!r} means here"
            )
        for i, word in enumerate(words.raw):
            if not words.used[i] and word not in STOPWORDS and words.stems[i] not in STOPWORDS:
                words.take(i, i + 1, "metric")  # a word of the metric's own phrasings
