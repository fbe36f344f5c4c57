"""One declaration per source: the connectors, guard, grants, search and help derive from it."""

from __future__ import annotations

import psycopg
from sync_helpers import stream_counts

from sophia_cli.core.bi import guard
from sophia_cli.core.search import search
from sophia_cli.core.sync import sources
from sophia_cli.core.sync.connectors import registry


def test_every_declared_source_has_a_connector_with_the_declared_streams_and_tables():
    for decl in sources.SOURCES:
        connector = registry.get(decl.name)
        assert [(s.name, s.table.name) for s in connector.streams()] == [
            (s.name, s.table) for s in decl.streams
        ]
        assert set(connector.token_variables) == set(decl.token_variables)


def test_a_child_stream_comes_after_its_parent():
    for decl in sources.SOURCES:
        order = [s.name for s in decl.streams]
        for stream in decl.streams:
            if stream.parent is not None:
                assert order.index(stream.parent) < order.index(stream.name), stream


def test_declared_tables_are_the_tables_the_streams_fill():
    for decl in sources.SOURCES:
        tables = {t.name for t in decl.tables}
        assert {s.table for s in decl.streams} <= tables
        assert all(t.name.split(".")[0] == decl.schema for t in decl.tables)


def test_the_query_guard_allows_exactly_the_declared_schemas():
    assert set(guard.SOURCE_SCHEMAS) == {decl.schema for decl in sources.SOURCES}


def test_search_offers_the_sources_that_declare_text():
    assert set(search.SOURCES) == {"slack", "asana", "gong"}


def test_unknown_source_error_lists_the_declared_sources(sophia):
    result = sophia("sync", "salesforce")
    assert result.exit_code != 0
    assert ", ".join(sources.NAMES) in result.stderr


def test_db_upgrade_grants_the_reader_every_declared_schema(sophia, stores_env):
    assert sophia("db", "upgrade").exit_code == 0
    with psycopg.connect(stores_env["DATABASE_URL"]) as conn:
        for schema in sources.SCHEMAS:
            row = conn.execute(
                "SELECT has_schema_privilege('sophia_reader', %s, 'USAGE')", [schema]
            ).fetchone()
            assert row is not None and row[0], schema


def test_dry_run_on_a_fresh_warehouse_counts_child_streams_like_a_real_run(sandbox, synced):
    dry = stream_counts(synced(sandbox, ["asana", "gong", "slack"], dry_run=True))
    real = stream_counts(synced(sandbox, ["asana", "gong", "slack"]))
    for child in ("asana.tasks", "gong.transcripts", "slack.messages"):
        assert dry[child][0] > 0 and dry[child] == real[child], child


def test_every_declared_paginator_kind_is_a_shared_paginator_or_a_named_exception():
    from sophia_cli.core.sync.paging import KINDS

    kinds = {stream.paginator for source in sources.SOURCES for stream in source.streams}
    assert kinds - {"keyset", "none"} <= set(KINDS)
    assert all(KINDS[kind].kind == kind for kind in KINDS)
