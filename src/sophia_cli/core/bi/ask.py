"""`ask`: a question in, an Answer out — the one function both faces call.

Parse (LLM through the squad when one is configured, else rules), compile, look up the
cache (structured query + data version), run read-only, phrase the answer.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, date, datetime
from typing import Any

import psycopg

from sophia_cli import __version__
from sophia_cli.core.bi import cache, parse_llm, timephrases
from sophia_cli.core.bi.answer import (
    FRESHNESS_SQL,
    Answer,
    interpretation,
    is_additive,
    sentence,
)
from sophia_cli.core.bi.compile import CompileOptions, compile_query
from sophia_cli.core.bi.execute import Reader
from sophia_cli.core.bi.parse_rules import RulesParser, SearchIntent
from sophia_cli.core.bi.semantic import SemanticLayer, layer_for
from sophia_cli.core.bi.structured import StructuredQuery
from sophia_cli.core.bi.values import ValueIndex, build_index, label_tables_sql, values_sql
from sophia_cli.core.errors import InputError, MigrationError, NotFoundError, NotUnderstoodError
from sophia_cli.core.settings import Settings

EARLIEST_AS_OF, LATEST_AS_OF = date(1000, 1, 1), date(8999, 12, 31)


def calendar(settings: Settings, as_of: date) -> timephrases.Calendar:
    """The calendar a question is read in: pinned day, week start, fiscal start."""
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        # Phrases reach years around as_of; Python dates end at years 1 and 9999.
        raise InputError(
            f"as_of {as_of.isoformat()} is outside the supported years 1000-8999",
            hint="Pin a date within the years your data covers.",
        )
    if not 1 <= settings.ask_fiscal_year_start_month <= 12:
        raise InputError(
            "ASK_FISCAL_YEAR_START_MONTH must be between 1 and 12",
            hint="Set it to the month number the fiscal year starts (1 = January).",
        )
    week_start = 6 if settings.ask_week_start == "sunday" else 0
    return timephrases.Calendar(as_of, week_start, settings.ask_fiscal_year_start_month)


def today() -> date:
    return datetime.now(UTC).date()


class _Clock:
    """Milliseconds per stage, for the benchmark and --debug."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(self.timings.get(stage, 0.0) + (now - self._last) * 1000, 3)
        self._last = now


def _llm_fingerprint(settings: Settings) -> str:
    """What decides whether the LLM path may answer, so a new key or squad is a new cache."""
    keys = ("openai_api_key", "anthropic_api_key", "litellm_api_key", "aimlapi_api_key")
    present = "".join("1" if settings.secret_value(name) else "0" for name in keys)
    return f"{settings.sophia_squads_file}|{settings.litellm_api_base}|{present}"


_LAYER_DIGESTS: dict[int, tuple[SemanticLayer, str]] = {}


def layer_digest(layer: SemanticLayer) -> str:
    """What the layer says, hashed once per loaded layer: an answer cached under one layer is
    never served under another (an edited SOPHIA_SEMANTIC_FILE, a new release's layer)."""
    memo = _LAYER_DIGESTS.get(id(layer))
    if memo is not None and memo[0] is layer:
        return memo[1]
    digest = hashlib.sha256(layer.model_dump_json().encode()).hexdigest()[:16]
    if len(_LAYER_DIGESTS) >= MAX_VALUE_INDEXES:
        _LAYER_DIGESTS.clear()
    _LAYER_DIGESTS[id(layer)] = (layer, digest)  # the reference keeps the id from reuse
    return digest


# Names for matching, per (database, layer, data version): a sync makes a new version, so an
# index is never stale, and questions between syncs never re-read the names.
_VALUE_INDEXES: dict[tuple[str, int, str], ValueIndex] = {}
MAX_VALUE_INDEXES = 8


def _values(settings: Settings, reader: Reader, layer: SemanticLayer, version: str) -> ValueIndex:
    """The names of the data, from this process, else Redis, else the warehouse."""
    where = cache.cache_key(settings, "values", str(reader.conn.info.dsn), version,
                            values_sql(layer))  # fmt: skip
    memo = (where, id(layer), version)
    if (index := _VALUE_INDEXES.get(memo)) is not None:
        return index
    stored = cache.get_json(settings, where)
    if isinstance(stored, dict) and {"rows", "empty"} <= stored.keys():
        rows, empty = stored["rows"], stored["empty"]
    else:
        _, rows, _ = reader.fetch(values_sql(layer))
        empty = []
        if label_sql := label_tables_sql(layer):
            _, found, _ = reader.fetch(label_sql)
            empty = [str(table) for table, is_empty in found if is_empty]
        cache.put_json(settings, where, {"rows": rows, "empty": empty})
    index = build_index(layer, rows, set(empty))
    if len(_VALUE_INDEXES) >= MAX_VALUE_INDEXES:
        _VALUE_INDEXES.clear()
    _VALUE_INDEXES[memo] = index
    return index


def _teaching_hint(reader: Reader, layer: SemanticLayer, hint: str) -> str:
    """A refusal's hint, plus what is synced and a few things to ask about each source."""
    _, rows, _ = reader.fetch(FRESHNESS_SQL)
    synced = sorted(str(row[0]) for row in rows)
    if not synced:
        return f"{hint}\nNothing is synced yet: {START_HINT}"
    parts = []
    for source in synced:
        labels = [m.label for m in layer.metrics.values()
                  if layer.models[m.model].source == source]  # fmt: skip
        parts.append(f"{source} ({', '.join(labels[:4])}{'…' if len(labels) > 4 else ''})")
    return f"{hint}\nSynced: {'; '.join(parts)}. `sophia ask --list` shows everything."


def _refuse_unmatched(
    reader: Reader, layer: SemanticLayer, query: StructuredQuery, sql: str,
    params: dict[str, Any],
) -> None:  # fmt: skip
    """A ratio across sources refuses when a person on one side has no match on the other."""
    _, rows, _ = reader.fetch(sql, params)
    if not rows:
        return
    names = [f"{label or '(no name)'} ({source}, {key or 'no email'})"
             for source, label, key in rows[:5]]  # fmt: skip
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    label = layer.metrics[query.metrics[0]].label
    raise NotUnderstoodError(
        f"not covered: {label} by owner needs each owner matched by email across sources;"
        f" unmatched: {', '.join(names)}{more}",
        hint="Give these people the same email in both tools, or ask without 'by owner'.",
    )


def _label_notes(layer: SemanticLayer, query: StructuredQuery, values: ValueIndex) -> list[str]:
    """Say when a dimension shows stored ids because its label table is still empty."""
    model = layer.model_of(query.metrics[0])
    notes = []
    for name in dict.fromkeys([*query.dimensions, *(f.dimension for f in query.filters)]):
        table = model.dimensions[name].labels if name in model.dimensions else None
        if table and table in values.unlabelled:
            notes.append(
                f"{layer.dimensions[name].label}s are shown by their HubSpot id: {table} is "
                "empty (a sync of the HubSpot pipelines fills it)"
            )
    return notes


def _bottom_notes(layer: SemanticLayer, query: StructuredQuery) -> list[str]:
    """A bottom ranking of a count or total ranks only the groups that have rows: say that
    those with none (who would rank lowest) are not in it."""
    if query.order is None or query.order.desc or not query.dimensions:
        return []
    if not is_additive(layer.metrics[query.metrics[0]]):
        return []
    dims = " / ".join(layer.dimensions[d].label for d in query.dimensions)
    label = layer.metrics[query.metrics[0]].label
    return [f"{label} by {dims}: only groups with at least one are ranked; "
            "one with none would rank lowest"]  # fmt: skip


def _parse(
    settings: Settings, question: str, layer: SemanticLayer, values: ValueIndex,
    cal: timephrases.Calendar, notes: list[str],
) -> tuple[StructuredQuery | SearchIntent, str]:  # fmt: skip
    if parse_llm.llm_available(settings):
        try:
            query = parse_llm.parse(settings, question, layer, values, cal)
        except parse_llm.LlmUnusable as exc:
            notes.append(f"LLM not used: {exc}")
        else:
            if query is not None:
                return query, "llm"
            notes.append("the LLM found the question not covered; rules parser tried")
    return RulesParser(layer, values).parse(question, cal), "rules"


_SCHEMA_SQL = "SELECT to_regclass('sophia.sync_runs') IS NOT NULL"
START_HINT = "Run `sophia db init`, then `sophia sync` (or `sophia demo` for a sample company)."


def _require_schema(reader: Reader) -> None:
    """One clear line, not an internal error, when the warehouse was never set up."""
    _, rows, _ = reader.fetch(_SCHEMA_SQL)
    if not rows or not rows[0][0]:
        # A migration problem like any missing schema (core/failures), so both faces and
        # every command classify it the same way; the hint is the new user's first steps.
        raise MigrationError("the warehouse has no sophia tables yet", hint=START_HINT)


def _freshness(
    reader: Reader, layer: SemanticLayer, metric: str, notes: list[str]
) -> dict[str, str | None]:
    """When the metric's source last synced; refuses when it never did and holds no rows
    (a 0 would look like an answer), and notes it when rows exist without a good sync."""
    source = layer.model_of(metric).source
    _, rows, _ = reader.fetch(FRESHNESS_SQL)
    found = {str(row[0]): str(row[1]) for row in rows}
    if found.get(source) is None:
        table = layer.model_of(metric).table
        _, has_rows, _ = reader.fetch(f"SELECT EXISTS (SELECT 1 FROM {table})")
        if not has_rows[0][0]:
            raise NotFoundError(
                f"no {source} data yet: no {source} sync has finished and {table} is empty",
                hint=START_HINT if not found else "Run `sophia sync` (or `sophia demo`).",
            )
        notes.append(f"no {source} sync has finished successfully: the rows may be incomplete")
    return {source: found.get(source)}


def _display_sql(reader: Reader, sql: str, params: dict[str, Any]) -> str:
    """The SQL with its bound values written in, for people to read or re-run."""
    return psycopg.ClientCursor(reader.conn).mogrify(sql, params)


def ask(
    settings: Settings,
    question: str,
    as_of: date | None = None,
    *,
    allow_llm_sql: bool = False,
    use_cache: bool = True,
) -> Answer:
    """Answer a business question; NotUnderstoodError (exit 3) with suggestions if not covered."""
    as_of = as_of or today()
    cal = calendar(settings, as_of)
    layer = layer_for(settings)
    clock = _Clock()
    notes: list[str] = []
    with Reader(settings) as reader:
        _require_schema(reader)
        _, version_rows, _ = reader.fetch(cache.DATA_VERSION_SQL)
        version = str(version_rows[0][0])
        asked = cache.cache_key(
            settings, "question", " ".join(question.lower().split()), as_of.isoformat(), version,
            _llm_fingerprint(settings), str(allow_llm_sql), str(cal), layer_digest(layer),
            __version__,
        )  # fmt: skip
        if use_cache and (hit := cache.get(settings, asked)) is not None:
            clock.lap("cache")
            hit.timings_ms = clock.timings
            return hit
        clock.lap("lookup")
        values = _values(settings, reader, layer, version)
        clock.lap("values")
        try:
            parsed, parser = _parse(settings, question, layer, values, cal, notes)
        except NotUnderstoodError as exc:
            if allow_llm_sql and parse_llm.llm_available(settings):
                from sophia_cli.core.bi.llm_sql import answer_with_sql

                return answer_with_sql(settings, reader, question, as_of)
            exc.hint = _teaching_hint(reader, layer, exc.hint)
            raise
        clock.lap("parse")
        if isinstance(parsed, SearchIntent):
            from sophia_cli.core.bi.ask_search import answer_search

            return answer_search(settings, parsed, as_of, parser)
        notes += _label_notes(layer, parsed, values)
        notes += _bottom_notes(layer, parsed)
        options = CompileOptions(
            as_of, cal.week_start, cal.fiscal_start_month, settings.ask_row_limit
        )
        compiled = compile_query(layer, parsed, options)
        clock.lap("compile")
        key = cache.cache_key(
            settings,
            parsed.cache_digest(),
            as_of.isoformat(),
            version,
            compiled.sql,
            parser,
            layer_digest(layer),
            __version__,
        )
        if use_cache and (hit := cache.get(settings, key)) is not None:
            cache.put(settings, asked, hit)
            clock.lap("cache")
            hit.timings_ms = clock.timings
            return hit
        freshness = _freshness(reader, layer, parsed.metrics[0], notes)
        _, rows, truncated = reader.fetch(compiled.sql, compiled.params, cap=settings.ask_row_limit)
        if compiled.unmatched_sql is not None:
            _refuse_unmatched(reader, layer, parsed, compiled.unmatched_sql, compiled.params)
        total = None
        if compiled.count_sql is not None:
            _, counted, _ = reader.fetch(compiled.count_sql, compiled.params)
            total = int(counted[0][0])
            truncated = total > len(rows)
        clock.lap("query")
        answer = Answer(
            answer=sentence(layer, parsed, rows, total),
            interpretation=interpretation(
                layer, parsed, parser=parser, freshness=freshness,
                truncated=truncated, notes=notes,
            ),
            sql=_display_sql(reader, compiled.sql, compiled.params),
            columns=compiled.columns, rows=rows, source=parser,
            as_of=as_of,
        )  # fmt: skip
        clock.lap("answer")
    if use_cache:
        cache.put(settings, key, answer)
        cache.put(settings, asked, answer)
    answer.timings_ms = clock.timings
    return answer


# Warehouses (by connection string) seen with their schema: suggestions check it once, not
# on every keystroke (a round trip each).
_SCHEMA_SEEN: set[str] = set()


def names_in_data(settings: Settings, layer: SemanticLayer) -> tuple[str, ValueIndex]:
    """The data version and the names in the data that questions match against (cached per
    version, like every question's), for suggestions as people type."""
    with Reader(settings) as reader:
        if (where := str(reader.conn.info.dsn)) not in _SCHEMA_SEEN:
            _require_schema(reader)
            _SCHEMA_SEEN.add(where)
        _, version_rows, _ = reader.fetch(cache.DATA_VERSION_SQL)
        version = str(version_rows[0][0])
        return version, _values(settings, reader, layer, version)
