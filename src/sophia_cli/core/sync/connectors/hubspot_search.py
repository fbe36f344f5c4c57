"""HubSpot incremental reads through the search API, past its 10,000-result cap.

The bookmark is a position (T, id): every record modified before T, and every record
modified at exactly T with `hs_object_id` ≤ id, is in the warehouse. From it a pass reads

1. the rest of timestamp T, sorted by `hs_object_id`, with `hs_object_id GT id`;
2. everything modified after T and before the run started, sorted by modified date.

A pass restarts from the latest position before its offset would reach 10,000, so any
number of records, even more than 10,000 sharing one timestamp, is read without a gap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sophia_cli.core.sync.http import ApiClient, decode, shape_error
from sophia_cli.core.sync.values import parse_time, to_epoch_ms

SEARCH_LIMIT = 200
SEARCH_CAP = 10_000


@dataclass(frozen=True)
class Position:
    """All records up to (modified_ms, id) have been read."""

    modified_ms: int
    id: int

    def to_state(self) -> dict[str, Any]:
        return {"modified_ms": self.modified_ms, "id": str(self.id)}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> Position:
        if not state or "modified_ms" not in state:
            return cls(0, 0)
        return cls(int(state["modified_ms"]), int(state.get("id") or 0))


def modified_ms(record: dict[str, Any], prop: str) -> int:
    """The record's modified time in epoch ms (the property the filters compare)."""
    value = (record.get("properties") or {}).get(prop) or record.get("updatedAt")
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"record {record.get('id')} has no {prop}")
    return to_epoch_ms(parsed)


async def _search(
    client: ApiClient,
    kind: str,
    filters: list[dict[str, str]],
    sort: str,
    properties: list[str],
    after: int,
) -> dict[str, Any]:
    path = f"/crm/v3/objects/{kind}/search"
    body = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": properties,
        "limit": SEARCH_LIMIT,
        "after": str(after),
    }
    response = await client.request("POST", path, buckets=("default", "search"), json=body)
    data = decode(response, "HubSpot")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise shape_error("HubSpot", path, "no `results` list", data)
    return data


def _next_after(data: dict[str, Any]) -> int | None:
    after = ((data.get("paging") or {}).get("next") or {}).get("after")
    return int(after) if after is not None else None


async def _ties(
    client: ApiClient, kind: str, prop: str, properties: list[str], start: Position
) -> AsyncIterator[tuple[list[dict[str, Any]], Position]]:
    """Records at exactly start.modified_ms with a larger id, in id order."""
    position = start
    while True:
        filters = [
            {"propertyName": prop, "operator": "EQ", "value": str(position.modified_ms)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(position.id)},
        ]
        after: int | None = 0
        while after is not None and after + SEARCH_LIMIT <= SEARCH_CAP:
            data = await _search(client, kind, filters, "hs_object_id", properties, after)
            records = data["results"]
            if records:
                position = Position(position.modified_ms, max(int(r["id"]) for r in records))
            yield records, position
            after = _next_after(data)
        if after is None:
            return


async def _range(
    client: ApiClient,
    kind: str,
    prop: str,
    properties: list[str],
    start: Position,
    upper_ms: int,
) -> AsyncIterator[tuple[list[dict[str, Any]], Position, bool]]:
    """One pass over (start.modified_ms, upper_ms); the flag says the pass is complete."""
    filters = [
        {"propertyName": prop, "operator": "GT", "value": str(start.modified_ms)},
        {"propertyName": prop, "operator": "LT", "value": str(upper_ms)},
    ]
    position, ordered = start, True
    after: int | None = 0
    while after is not None and after + SEARCH_LIMIT <= SEARCH_CAP:
        data = await _search(client, kind, filters, prop, properties, after)
        for record in data["results"]:
            stamp, rid = modified_ms(record, prop), int(record["id"])
            if stamp == position.modified_ms:
                ordered = ordered and rid > position.id
                position = Position(stamp, max(rid, position.id))
            else:
                position, ordered = Position(stamp, rid), True
        # Ids within the last timestamp are trusted only when they came in id order.
        safe = position if ordered else Position(position.modified_ms, 0)
        after = _next_after(data)
        yield data["results"], safe, after is None


async def search_changes(
    client: ApiClient,
    kind: str,
    prop: str,
    properties: list[str],
    start: Position,
    upper_ms: int,
) -> AsyncIterator[tuple[list[dict[str, Any]], Position]]:
    """Every record modified after `start` and before `upper_ms`, with the position after it."""
    position = start
    while True:
        if position.modified_ms > 0:
            async for records, after_ties in _ties(client, kind, prop, properties, position):
                yield records, after_ties
                position = after_ties
        complete = False
        async for records, after_page, done in _range(
            client, kind, prop, properties, position, upper_ms
        ):
            yield records, after_page
            latest, complete = after_page, done
        if complete:
            return
        position = latest
