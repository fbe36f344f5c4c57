"""HubSpot incremental reads through the search API: keyset pages, never offsets.

The bookmark is a position (T, id): every record modified before T, and every record
modified at exactly T with `hs_object_id` ≤ id, is in the warehouse (id None: all of T).

Every request asks for the first page after the position (`after` is always 0), so a
record modified while a pass runs, which leaves the window and would shift every later
offset, cannot make the pass skip an untouched record. A pass alternates two queries:

1. the rest of timestamp T, sorted by `hs_object_id`, with `hs_object_id GT id`;
2. the first page modified after T and before the window's end, sorted by modified date.

A page of (2) ends the position at the previous timestamp: the records of its last
timestamp may continue on the next page, so they are read again from there (or, when a
whole page shares one timestamp, through (1), which has no 10,000-result cap to hit).
HubSpot's index lags writes, so the window ends at run start minus the lag, and each
incremental run starts a look-back before its bookmark (upserts make the overlap free).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sophia_cli.core.sync.http import ApiClient, decode, shape_error
from sophia_cli.core.sync.values import parse_time, to_epoch_ms

SEARCH_LIMIT = 200
Records = list[dict[str, Any]]


@dataclass(frozen=True, order=True)
class Position:
    """All records up to (modified_ms, id) have been read; id None: all of modified_ms."""

    modified_ms: int
    id: int | None = None

    def key(self) -> tuple[int, float]:
        return (self.modified_ms, float("inf") if self.id is None else float(self.id))

    def to_state(self) -> dict[str, Any]:
        return {"modified_ms": self.modified_ms, "id": None if self.id is None else str(self.id)}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> Position:
        if not state or "modified_ms" not in state:
            return cls(0)
        raw = state.get("id")
        return cls(int(state["modified_ms"]), None if raw is None else int(raw))

    def looked_back(self, lookback_ms: int) -> Position:
        """The position `lookback_ms` earlier (the whole earlier timestamp unread)."""
        if lookback_ms <= 0 or self.modified_ms == 0:
            return self
        return Position(max(0, self.modified_ms - lookback_ms - 1))


def later(a: Position, b: Position) -> Position:
    return a if a.key() >= b.key() else b


def modified_ms(record: dict[str, Any], prop: str) -> int:
    """The record's modified time in epoch ms (the property the filters compare)."""
    value = (record.get("properties") or {}).get(prop) or record.get("updatedAt")
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"record {record.get('id')} has no {prop}")
    return to_epoch_ms(parsed)


async def _first_page(
    client: ApiClient,
    kind: str,
    filters: list[dict[str, str]],
    sort: str,
    properties: list[str],
) -> Records:
    """The first page of a search (keyset paging: the filters carry the position)."""
    path = f"/crm/v3/objects/{kind}/search"
    body = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": properties,
        "limit": SEARCH_LIMIT,
        "after": "0",
    }
    response = await client.request("POST", path, buckets=("default", "search"), json=body)
    data = decode(response, "HubSpot")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise shape_error("HubSpot", path, "no `results` list", data)
    results: Records = data["results"]
    return results


async def _ties(
    client: ApiClient, kind: str, prop: str, properties: list[str], start: Position
) -> AsyncIterator[tuple[Records, Position]]:
    """Records at exactly start.modified_ms after start.id, in id order, keyset by id."""
    position = start
    while True:
        filters = [
            {"propertyName": prop, "operator": "EQ", "value": str(position.modified_ms)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(position.id or 0)},
        ]
        records = await _first_page(client, kind, filters, "hs_object_id", properties)
        if records:
            last = max(int(r["id"]) for r in records)
            position = Position(position.modified_ms, last)
        full = len(records) >= SEARCH_LIMIT
        yield records, position if full else Position(position.modified_ms)
        if not full:
            return


async def _range_page(
    client: ApiClient, kind: str, prop: str, properties: list[str], start: Position, upper: int
) -> tuple[Records, Position, bool]:
    """The first page modified in (start.modified_ms, upper): records, position, last page."""
    filters = [
        {"propertyName": prop, "operator": "GT", "value": str(start.modified_ms)},
        {"propertyName": prop, "operator": "LT", "value": str(upper)},
    ]
    records = await _first_page(client, kind, filters, prop, properties)
    if len(records) < SEARCH_LIMIT:
        stamps = [modified_ms(r, prop) for r in records]
        return records, Position(max(stamps, default=start.modified_ms)), True
    stamps = sorted({modified_ms(r, prop) for r in records})
    if len(stamps) == 1:  # a whole page on one timestamp: read the rest of it by id
        return records, Position(stamps[0], 0), False
    # The last timestamp may continue on the next page: the position stops before it.
    return records, Position(stamps[-2]), False


async def search_changes(
    client: ApiClient,
    kind: str,
    prop: str,
    properties: list[str],
    start: Position,
    upper_ms: int,
) -> AsyncIterator[tuple[Records, Position]]:
    """Every record modified after `start` and before `upper_ms`, with the position after it."""
    position = start
    while True:
        if position.id is not None and position.modified_ms > 0:
            async for records, after_ties in _ties(client, kind, prop, properties, position):
                position = after_ties
                yield records, position
        records, position, done = await _range_page(
            client, kind, prop, properties, position, upper_ms
        )
        yield records, position
        if done:
            return
