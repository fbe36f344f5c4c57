"""Shared paginators: the loop that follows an API's next-page token, written once.

Every listing our APIs offer hands back an opaque token for the next page; they differ only
in where the items and that token sit in the body (`sources.Paginator` names the kind per
stream). The connector sends the request (its auth, method, buckets and parameters); the
paginator decides when the listing ends and refuses a token that repeats, which would loop
forever. HubSpot search is keyset paging (the filters carry the position), a different
algorithm, in `connectors/hubspot_search.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from sophia_cli.core.sync.errors import MalformedResponseError
from sophia_cli.core.sync.http import shape_error

Body = dict[str, Any]
Send = Callable[[str | None], Awaitable[Any]]  # token (None: first page) -> decoded body


def _at(body: Any, *path: str) -> Any:
    """body[path[0]][path[1]]…, or None where a level is missing or null."""
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


@dataclass(frozen=True)
class TokenPaginator:
    """Pages of `items` until the body carries no next token.

    `api` and `where` only name the listing in errors. A body of None ends the listing
    (an API's way of saying "no records", such as Gong's 404).
    """

    api: str
    items: str
    kind: ClassVar[str] = ""
    next_path: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def next_token(cls, body: Body) -> str | None:
        """The token of the page after `body`, or None on the last page."""
        token = _at(body, *cls.next_path)
        return str(token) if token not in (None, "") else None

    async def pages(self, send: Send, where: str) -> AsyncIterator[tuple[list[Any], Body]]:
        token: str | None = None
        used: set[str] = set()
        while True:
            body = await send(token)
            if body is None:
                return
            items = _at(body, self.items)
            if not isinstance(items, list):
                raise shape_error(self.api, where, f"no `{self.items}` list", body)
            yield items, body
            token = self.next_token(body)
            if token is None:
                return
            if token in used:
                raise MalformedResponseError(
                    f"{self.api} {where} handed back a next-page token it had already given;"
                    " stopped instead of reading the same pages forever"
                )
            used.add(token)


@dataclass(frozen=True)
class OffsetPaginator(TokenPaginator):
    """Asana: `next_page.offset`, null on the last page."""

    kind: ClassVar[str] = "offset"
    next_path: ClassVar[tuple[str, ...]] = ("next_page", "offset")


@dataclass(frozen=True)
class AfterPaginator(TokenPaginator):
    """HubSpot list endpoints: `paging.next.after`, absent on the last page."""

    kind: ClassVar[str] = "after"
    next_path: ClassVar[tuple[str, ...]] = ("paging", "next", "after")


@dataclass(frozen=True)
class CursorPaginator(TokenPaginator):
    """Gong: `records.cursor`, absent on the last page."""

    kind: ClassVar[str] = "cursor"
    next_path: ClassVar[tuple[str, ...]] = ("records", "cursor")


@dataclass(frozen=True)
class SlackCursorPaginator(TokenPaginator):
    """Slack: `response_metadata.next_cursor`, an empty string on the last page."""

    kind: ClassVar[str] = "slack_cursor"
    next_path: ClassVar[tuple[str, ...]] = ("response_metadata", "next_cursor")


# The classes by the kind `sources.StreamDecl.paginator` names ("keyset" and "none" are not
# token listings: HubSpot search re-anchors its filters, pipelines come in one response).
KINDS: dict[str, type[TokenPaginator]] = {
    cls.kind: cls
    for cls in (OffsetPaginator, AfterPaginator, CursorPaginator, SlackCursorPaginator)
}
