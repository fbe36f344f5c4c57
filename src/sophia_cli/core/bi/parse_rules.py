"""The deterministic parser: a question to a structured query, or a clear refusal.

Order of work: a search question is recognised first; then the time phrase is cut out; names
that exist in the data are matched (exact anywhere in the question first, then typo-tolerant);
grain, ranking and "by X" dimensions are read; the metric is the synonym that covers the most
words ("how much" prefers amounts, "how many" counts); the model's own nouns, the metric's
agreeing words and the verbs naming one of the model's dates ("created", "due") are placed.
Any word left over that means something is a reason to refuse, never to guess; every used
word is recorded with the part of the query it went to.

The parts live beside it: the word tables (parse_lexicon), names of the data (parse_names)
and the shape of the answer asked for (parse_shapes); this module reads the metric, its
breakdowns, adjectives and dates, and puts the structured query together.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sophia_cli.core.bi import compare, shapes, timephrases
from sophia_cli.core.bi.parse_names import NameRules
from sophia_cli.core.bi.parse_shapes import ShapeRules
from sophia_cli.core.bi.structured import MetricFilter, Order, StructuredQuery
from sophia_cli.core.bi.suggest import not_understood
from sophia_cli.core.bi.vocabulary import (
    GROUP_LEADS,
    OUTSIDERS,
    RANK_WORDS,
    SEARCH_QUESTION,
    STOPWORDS,
    Words,
    normalise_question,
    place,
    repair,
    stem,
)
from sophia_cli.core.errors import NotUnderstoodError


@dataclass
class SearchIntent:
    """A "what are people saying about X" question, answered by full-text search."""

    topic: str
    time_range: timephrases.TimeRange | None = None
    external_only: bool = False  # "what did customers say": their words, not ours


class RulesParser(NameRules, ShapeRules):
    """Parses questions against one semantic layer and the values of one warehouse."""

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
        self._refuse_vague_threshold(words, question)
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
        count_groups = False
        if not kept and (counted_dim := self._counted_dimension(words)):
            # "how many owners have open deals": owners with any, not open deals by owner
            kept = [MetricFilter(metric=metrics[0], op=">", value=0)]
            dims = [counted_dim, *(d for d in dims if d != counted_dim)]
            count_groups = len(dims) == 1
        if "who" in words.raw and order_desc is not None and not dims:
            dims = [d for d, spec in self.layer.models[model].dimensions.items() if spec.person][:1]
        unassigned = self._unassigned(words)
        keep_unassigned = unassigned and order_desc is not None
        if unassigned and order_desc is None:
            missing += self._person(model)[:1]  # "unassigned open tasks": nobody's
        measured = self._measure_filters(words, limits, model, question)
        self._agreeing_words(words, model, metrics)
        self._refuse_per_record(words, question)
        time_by = self._time_by(words, model, metrics[0], question)
        if time_by is not None and time_range is None and grain is None:
            # "deals won from new customers": the date a verb names needs a period to date
            label = self.layer.models[model].times[time_by].label
            raise not_understood(self.layer, question, f"{words.by_part()['date'][0]!r} picks "
                                 f"the {label}, but no period is given for it")  # fmt: skip
        if refined := self._refined(words, model, metrics):
            # "deals created last month that are still open": open deals, by creation date
            own = self.layer.time_of(metrics[0], time_by)[0]
            dated = [k for k, t in self.layer.models[model].times.items() if t.column == own]
            metrics, time_by = [refined], dated[0] if dated else time_by
        if (
            time_range is not None
            and comparison is None
            and time_by is None
            and self.layer.metrics[metrics[0]].dated_ahead
        ):
            # "open deals closing in december": the coming December, not the last one
            time_range = timephrases.resolve(time_range.phrase, replace(cal, ahead=True))
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
            count_groups=count_groups and grain is None and order_desc is None,
            list_order=ranked_rows,
            compare_to=comparison.previous if comparison else None,
            words={**({"time": time_words} if time_words else {}),
                   **({"compare": comparison.words} if comparison else {}), **words.by_part()},
        )  # fmt: skip

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
        # "tasks created and completed last month": the metric's own verb names a date too
        in_metric = {self.time_words[model][s] for i, s in enumerate(words.stems)
                     if words.parts[i] == "metric" and s in self.time_words[model]}  # fmt: skip
        for key in in_metric - set(named):
            named = {key: -1, **named}
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
