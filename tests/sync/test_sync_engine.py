"""The engine with a fake connector registered like a plugin: pages, bookmarks, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest

from sophia_cli.core.settings import load_settings
from sophia_cli.core.sync.connectors import registry
from sophia_cli.core.sync.run import run_sync
from sophia_cli.core.sync.streams import Page, Stream, StreamContext, Table

USERS = Table("gong.users", ("id",), ("id", "email"))


class FakeClient:
    retries = 0

    async def aclose(self) -> None:
        return None


class FakeConnector:
    """Two pages of users, each with a bookmark; optionally failing after the first."""

    name = "fake"
    token_variables: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.fail_after_first = False
        self.seen_state: list[dict[str, Any] | None] = []

    async def _fetch(self, ctx: StreamContext) -> AsyncIterator[Page]:
        self.seen_state.append(ctx.state)
        yield Page(rows=[(USERS, [{"id": "u1", "email": "a@x.test"}])], state={"page": 1})
        if self.fail_after_first:
            raise ValueError("the API went away")
        yield Page(rows=[(USERS, [{"id": "u2", "email": "b@x.test"}])], state={"page": 2})

    def streams(self) -> list[Stream]:
        return [Stream("users", USERS, "id", self._fetch)]

    def client(self, settings: Any) -> FakeClient:
        return FakeClient()

    async def check(self, client: Any) -> str:
        return "fake"


@pytest.fixture
def fake() -> Iterator[FakeConnector]:
    connector = FakeConnector()
    registry.register(connector)
    yield connector
    registry.unregister("fake")


def _state(url: str) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT cursor FROM sophia.sync_state WHERE source = 'fake'").fetchone()
    return row[0] if row else None


def test_a_registered_connector_is_synced_and_its_bookmark_stored(fake, stores_env):
    report = run_sync(load_settings(), ["fake"])
    assert report.ok and report.totals["inserted"] == 2
    assert _state(stores_env["DATABASE_URL"]) == {"page": 2}
    run_sync(load_settings(), ["fake"])
    assert fake.seen_state == [None, {"page": 2}]


def test_a_failing_stream_keeps_the_pages_and_bookmark_it_committed(fake, stores_env):
    fake.fail_after_first = True
    report = run_sync(load_settings(), ["fake"])
    stream = report.sources[0].streams[0]
    assert stream.status == "failed" and "the API went away" in (stream.error or "")
    assert _state(stores_env["DATABASE_URL"]) == {"page": 1}
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT id FROM gong.users").fetchall() == [("u1",)]
        runs = conn.execute("SELECT status, pages, error FROM sophia.sync_runs").fetchall()
    assert runs == [("failed", 1, "ValueError: the API went away")]


def test_unregistered_connector_is_unknown(fake, sophia, stores_env):
    registry.unregister("fake")
    assert sophia("sync", "fake").exit_code == 2
