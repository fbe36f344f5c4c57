"""What a connector declares: tables, streams, and the pages a stream yields."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from psycopg import AsyncConnection

from sophia_cli.core.settings import Settings

Row = dict[str, Any]
Conn = AsyncConnection[tuple[Any, ...]]
Finish = Callable[[Conn], Awaitable[int]]


@dataclass(frozen=True)
class TextDoc:
    """One text for the full-text index (a message, a transcript turn, a task)."""

    id: str
    source: str
    kind: str
    author: str
    ts: int
    url: str
    text: str


@dataclass(frozen=True)
class Table:
    """A warehouse table a stream writes, with the columns it fills and its key.

    `scope` names the parent column of a child table (participants of a call): rows of a
    parent that the API no longer returns are deleted when the parent is re-read.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]
    scope: str | None = None
    text: Callable[[Row], TextDoc | None] | None = None

    @property
    def staging(self) -> str:
        return "_stage_" + self.name.replace(".", "_")


@dataclass
class Page:
    """Rows fetched in one request (per table), and the bookmark once they are stored.

    `state` None leaves the stream's bookmark as it is. `finish` runs in the same
    transaction after the rows are loaded (e.g. mark what a full sweep did not see) and
    returns how many rows it marked deleted. `docs` are texts to index besides those the
    tables derive from their rows. `deletes` counts changed rows as deletions
    (archived records). `progress` is the share of the stream's work done after this page
    (0..1), when the stream can tell; the engine turns it into an estimate of time left.
    """

    rows: list[tuple[Table, list[Row]]]
    state: dict[str, Any] | None = None
    docs: list[TextDoc] = field(default_factory=list)
    finish: Finish | None = None
    deletes: bool = False
    progress: float | None = None


@dataclass
class StreamContext:
    """What a stream needs to fetch: the bookmark, the run's clock, and the warehouse."""

    settings: Settings
    client: Any
    state: dict[str, Any] | None
    run_start: datetime
    full: bool
    since: date | None
    conn: Conn
    notes: list[str] = field(default_factory=list)
    sweep: bool = False
    # The rows the parent stream (sources.StreamDecl.parent) loaded in this run, in memory,
    # so a dry run counts children right; None when the parent did not complete (the child
    # then falls back on what the warehouse holds and must not conclude anything is gone).
    parents: list[Row] | None = None

    async def fetch_all(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read from the warehouse (outside the page transactions)."""
        cursor = await self.conn.execute(query, params)
        return await cursor.fetchall()


Fetch = Callable[[StreamContext], AsyncIterator[Page]]


@dataclass(frozen=True)
class Stream:
    """One stream of a source: a target table, its primary key and its cursor field."""

    name: str
    table: Table
    cursor_field: str | None
    fetch: Fetch

    @property
    def primary_key(self) -> tuple[str, ...]:
        return self.table.key


class Connector(Protocol):
    """A source: its name, the settings it needs, its streams, and an HTTP client."""

    name: str
    token_variables: tuple[str, ...]

    def streams(self) -> list[Stream]: ...

    def client(self, settings: Settings) -> Any: ...

    async def check(self, client: Any) -> str: ...
