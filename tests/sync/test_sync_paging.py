"""The shared paginators: follow each API's next-page token until the last page, and stop
with one clear error instead of looping when an API hands back a token it already gave."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sophia_cli.core.sync.errors import MalformedResponseError
from sophia_cli.core.sync.paging import (
    AfterPaginator,
    CursorPaginator,
    OffsetPaginator,
    SlackCursorPaginator,
    TokenPaginator,
)


def _read(paginator: TokenPaginator, bodies: dict[str | None, Any]) -> list[Any]:
    """Every item the paginator yields when page `token` is `bodies[token]`."""
    asked: list[str | None] = []

    async def send(token: str | None) -> Any:
        asked.append(token)
        return bodies[token]

    async def collect() -> list[Any]:
        return [item async for items, _ in paginator.pages(send, "/list") for item in items]

    return asyncio.run(collect())


@pytest.mark.parametrize(
    ("paginator", "first", "last"),
    [
        (OffsetPaginator("Asana", "data"), {"next_page": {"offset": "b"}}, {"next_page": None}),
        (AfterPaginator("HubSpot", "data"), {"paging": {"next": {"after": "b"}}}, {}),
        (CursorPaginator("Gong", "data"), {"records": {"cursor": "b"}}, {"records": {}}),
        (
            SlackCursorPaginator("Slack", "data"),
            {"response_metadata": {"next_cursor": "b"}},
            {"response_metadata": {"next_cursor": ""}},
        ),
    ],
)
def test_each_kind_follows_its_token_to_the_last_page(
    paginator: TokenPaginator, first: dict[str, Any], last: dict[str, Any]
) -> None:
    bodies = {None: {"data": [1, 2], **first}, "b": {"data": [3], **last}}
    assert _read(paginator, bodies) == [1, 2, 3]


def test_a_repeated_next_page_token_stops_with_an_error_instead_of_looping() -> None:
    bodies = {
        None: {"data": [1], "next_page": {"offset": "b"}},
        "b": {"data": [2], "next_page": {"offset": "b"}},
    }
    with pytest.raises(MalformedResponseError, match="already given"):
        _read(OffsetPaginator("Asana", "data"), bodies)


def test_a_next_page_without_a_token_is_the_last_page() -> None:
    bodies = {None: {"data": [1], "next_page": {}}}  # once read forever from the first page
    assert _read(OffsetPaginator("Asana", "data"), bodies) == [1]


def test_no_body_ends_the_listing_and_a_body_without_the_list_is_refused() -> None:
    assert _read(CursorPaginator("Gong", "calls"), {None: None}) == []
    with pytest.raises(MalformedResponseError, match="no `calls` list"):
        _read(CursorPaginator("Gong", "calls"), {None: {"calls": {"moved": True}}})
