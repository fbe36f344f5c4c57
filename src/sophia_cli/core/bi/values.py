"""Values that exist in the data, per model and dimension, for matching names in questions."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from sophia_cli.core.bi.semantic import SemanticLayer

MAX_VALUES_PER_DIMENSION = 2000
FUZZY_CUTOFF = 0.85
FUZZY_MARGIN = 0.05


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped, single spaces: how names are compared.

    Questions and stored values both go through here, so `#deals-desk`, `Deals Desk` and
    `deals_desk` are one name, as are `Zoë` and `zoe`.
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", " ", text.lower().replace("_", " "))
    return " ".join(text.split())


@dataclass
class ValueIndex:
    """Every (model, dimension, value), indexed by normalised full name and first word."""

    by_name: dict[str, set[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(set))
    by_first: dict[str, set[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(set))
    by_length: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    synonyms: dict[str, set[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(set))
    # Names with their spaces removed: "contract sent" finds the stage id "contractsent".
    joined: dict[str, set[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(set))
    # Label tables (hubspot.pipeline_stages…) holding no rows: their dimensions show ids.
    unlabelled: set[str] = field(default_factory=set)

    def add(self, model: str, dimension: str, value: str, *, person: bool) -> None:
        key = normalise(value)
        if not key:
            return
        self.by_name[key].add((model, dimension, value))
        self.by_length[len(key.split())].add(key)
        if " " in key:
            self.joined[key.replace(" ", "")].add((model, dimension, value))
        first = key.split()[0]
        if person and len(first) >= 3 and " " in key:
            self.by_first[first].add((model, dimension, value))

    def add_synonym(self, key: str, model: str, dimension: str, value: str) -> None:
        """`key` (normalised) names `value` too: "healthcare" → HOSPITAL_HEALTH_CARE."""
        self.synonyms[key].add((model, dimension, value))
        self.by_length[len(key.split())].add(key)

    def exact(self, phrase: str) -> set[tuple[str, str, str]]:
        """Values whose full name is `phrase`, else people whose first name is `phrase`."""
        found = self.by_name.get(phrase, set()) | self.synonyms.get(phrase, set())
        if found:
            return found
        if " " in phrase and (found := self.by_name.get(phrase.replace(" ", ""), set())):
            return found  # an id spelled as words: "contract sent" → contractsent
        if found := self.joined.get(phrase, set()):
            return found  # a name spelled as one word: "dealsdesk" → deals-desk
        people = self.by_first.get(phrase, set())
        # A first name names one person per dimension, or nobody.
        dims: dict[tuple[str, str], set[str]] = defaultdict(set)
        for model, dim, value in people:
            dims[(model, dim)].add(value)
        return {(m, d, next(iter(v))) for (m, d), v in dims.items() if len(v) == 1}

    def fuzzy(self, phrase: str) -> set[tuple[str, str, str]]:
        """Values whose full name is within a typo or two of `phrase` (same word count).

        Only a clear winner counts: the best name must reach FUZZY_CUTOFF and beat the next
        name by FUZZY_MARGIN, so "Acme Corpp" finds "Acme Corp" but a word halfway between
        two names finds neither.
        """
        import difflib

        if len(phrase) < 5:
            return set()
        names = self.by_length.get(len(phrase.split()), set())
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(phrase)  # difflib caches facts about seq2: the phrase, compared often
        scored = []
        for name in names:
            matcher.set_seq1(name)
            # The cheap upper bounds first: most names are nowhere near the cutoff.
            if matcher.real_quick_ratio() < FUZZY_CUTOFF - FUZZY_MARGIN:
                continue
            if matcher.quick_ratio() < FUZZY_CUTOFF - FUZZY_MARGIN:
                continue
            scored.append((matcher.ratio(), name))
        scored.sort(reverse=True)
        if not scored or scored[0][0] < FUZZY_CUTOFF:
            return set()
        if len(scored) > 1 and scored[0][0] - scored[1][0] < FUZZY_MARGIN:
            return set()
        return self.by_name.get(scored[0][1], set()) | self.synonyms.get(scored[0][1], set())


def values_sql(layer: SemanticLayer) -> str:
    """One statement listing distinct values of every dimension of every model."""
    parts = []
    for model_name, model in layer.models.items():
        for dim_name, dim in model.dimensions.items():
            joins = " ".join(model.joins[j] for j in dict.fromkeys(dim.joins))
            where = f"WHERE ({model.where})" if model.where else ""
            parts.append(
                f"(SELECT '{model_name}' AS model, '{dim_name}' AS dim, v FROM "
                f"(SELECT DISTINCT ({dim.expr})::text AS v FROM {model.table} AS {model.alias} "
                f"{joins} {where}) s WHERE v IS NOT NULL LIMIT {MAX_VALUES_PER_DIMENSION})"
            )
    return "\nUNION ALL\n".join(parts)


def label_tables_sql(layer: SemanticLayer) -> str | None:
    """One statement telling which label tables of the layer hold no rows, or None."""
    tables = sorted({d.labels for m in layer.models.values() for d in m.dimensions.values()
                     if d.labels})  # fmt: skip
    if not tables:
        return None
    return "\nUNION ALL\n".join(
        f"SELECT '{table}', NOT EXISTS (SELECT 1 FROM {table})" for table in tables
    )


def build_index(
    layer: SemanticLayer, rows: list[list[object]], empty_tables: set[str] | None = None
) -> ValueIndex:
    """A ValueIndex from rows of `values_sql`, plus the layer's words for values that exist."""
    index = ValueIndex(unlabelled=set(empty_tables or ()))
    stored: list[tuple[str, str, str]] = []
    for model, dim, value in rows:
        person = layer.models[str(model)].dimensions[str(dim)].person
        index.add(str(model), str(dim), str(value), person=person)
        stored.append((str(model), str(dim), str(value)))
    for model, dim, value in stored:
        for word in layer.dimensions[dim].values.get(value, []):
            key = normalise(word)
            # A name in the data beats a synonym of another value of the same dimension.
            if not any(m == model and d == dim for m, d, _ in index.by_name.get(key, ())):
                index.add_synonym(key, model, dim, value)
    return index
