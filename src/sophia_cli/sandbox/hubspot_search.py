"""HubSpot CRM search semantics: typed filters, ORed groups, one stable sort, the 10k cap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sophia_cli.sandbox.clock import epoch_ms, parse_iso
from sophia_cli.sandbox.dataset import Record

SEARCH_CAP = 10_000
OPERATORS = (
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
)
DATETIME_PROPS = {
    "createdate",
    "hs_lastmodifieddate",
    "lastmodifieddate",
    "closedate",
    "hs_createdate",
}
NUMBER_PROPS = {
    "amount",
    "hs_object_id",
    "numberofemployees",
    "annualrevenue",
    "hs_deal_stage_probability",
    "associatedcompanyid",
}


class SearchError(ValueError):
    """A request HubSpot answers with 400 VALIDATION_ERROR."""


def typed(prop: str, value: str | None) -> Any:
    """A property value as something comparable: epoch ms, a number, or lower-case text."""
    if value is None:
        return None
    if prop in DATETIME_PROPS:
        text = str(value).strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            return epoch_ms(parse_iso(text))
        except ValueError as exc:
            raise SearchError(f"{text} is not a valid datetime for {prop}") from exc
    if prop in NUMBER_PROPS:
        try:
            return float(value)
        except ValueError as exc:
            raise SearchError(f"{value} is not a valid number for {prop}") from exc
    return str(value).lower()


def compile_filter(raw: dict[str, Any]) -> Callable[[Record], bool]:
    """One filter of a group as a predicate on a record."""
    prop, op = raw.get("propertyName"), raw.get("operator")
    if not prop or op not in OPERATORS:
        raise SearchError(f"Invalid filter: propertyName and a valid operator are required: {raw}")
    prop = str(prop)
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return lambda r: (r["properties"].get(prop) not in (None, "")) == (op == "HAS_PROPERTY")
    if op in ("IN", "NOT_IN"):
        values = {typed(prop, v) for v in raw.get("values") or []}
        return lambda r: (typed(prop, r["properties"].get(prop)) in values) == (op == "IN")
    if "value" not in raw:
        raise SearchError(f"Filter on {prop} with {op} needs a value")
    low = typed(prop, raw["value"])
    high = typed(prop, raw.get("highValue")) if op == "BETWEEN" else None
    if op == "BETWEEN" and high is None:
        raise SearchError(f"BETWEEN on {prop} needs highValue")

    def check(record: Record) -> bool:
        value: Any = typed(prop, record["properties"].get(prop))
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            found = value is not None and str(low).strip("*") in str(value)
            return bool(found == (op == "CONTAINS_TOKEN"))
        if op == "NEQ":
            return bool(value != low)
        if value is None:
            return False
        return bool(
            {
                "EQ": value == low,
                "LT": value < low,
                "LTE": value <= low,
                "GT": value > low,
                "GTE": value >= low,
                "BETWEEN": high is not None and low <= value <= high,
            }[op]
        )

    return check


def compile_groups(groups: list[dict[str, Any]]) -> Callable[[Record], bool]:
    """filterGroups: ORed groups of ANDed filters, within HubSpot's size limits."""
    if len(groups) > 5:
        raise SearchError("Too many filter groups: at most 5 are allowed")
    compiled = [[compile_filter(f) for f in g.get("filters") or []] for g in groups]
    if sum(len(g) for g in compiled) > 25 or any(len(g) > 10 for g in compiled):
        raise SearchError("Too many filters: at most 10 per group and 25 in total")
    compiled = [g for g in compiled if g]
    if not compiled:
        return lambda record: True
    return lambda record: any(all(f(record) for f in group) for group in compiled)


def sort_key(sorts: list[Any]) -> tuple[Callable[[Record], Any], bool]:
    """The sort rule (object or "-prop" string form), ties broken by ascending id."""
    if not sorts:
        return (lambda r: int(r["id"])), False
    if len(sorts) > 1:
        raise SearchError("Only one sort is supported")
    rule = sorts[0]
    if isinstance(rule, str):
        prop, descending = rule.lstrip("-"), rule.startswith("-")
    else:
        prop = str(rule.get("propertyName", ""))
        descending = str(rule.get("direction", "ASCENDING")).upper() == "DESCENDING"
    if not prop:
        raise SearchError("sorts[0].propertyName is required")

    def key(record: Record) -> Any:
        value = typed(prop, record["properties"].get(prop))
        missing = value is None
        return (missing, 0 if missing else value, int(record["id"]) * (-1 if descending else 1))

    return key, descending


def search(records: list[Record], body: dict[str, Any]) -> tuple[int, list[Record], int | None]:
    """(total, page, next offset or None) for a search body over live records."""
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or not 1 <= limit <= 200:
        raise SearchError("limit must be between 1 and 200")
    try:
        after = int(body.get("after") or 0)
    except (TypeError, ValueError) as exc:
        raise SearchError(f"after must be a numeric offset, got {body.get('after')!r}") from exc
    if after >= SEARCH_CAP:
        raise SearchError(
            "Searching beyond 10,000 results is not supported. Narrow your "
            "filters (for example on hs_lastmodifieddate) and search again."
        )
    match = compile_groups(list(body.get("filterGroups") or []))
    query = str(body.get("query") or "").lower()
    hits = [
        r
        for r in records
        if match(r)
        and (not query or any(query in str(v).lower() for v in r["properties"].values()))
    ]
    key, descending = sort_key(list(body.get("sorts") or []))
    hits.sort(key=key, reverse=descending)
    end = min(after + limit, SEARCH_CAP)
    next_after = end if end < len(hits) else None
    return len(hits), hits[after:end], next_after
