"""Hostile SQL against `sophia query`, on databases with standard_conforming_strings on and off.

Every case goes through the real path (guard, pooled read-only connection, reader role) and
the database is then inspected: no sentinel object, no lock or open transaction left by
another session, no row, sequence, role or large object changed, and the pooled connection
carries no session state (settings, role, LISTEN, prepared statements) into the next request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from ask_fixture_data import load
from ask_helpers import clone_database, drop_database

from sophia_cli.core.bi import guard
from sophia_cli.core.bi.execute import Reader, run_query
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.store import pooled

SENTINEL = "sophia_pwned"
CREATE_SENTINEL = f"CREATE TABLE public.{SENTINEL} (id int)"

STACKED = [
    "SELECT 1; DROP TABLE hubspot.deals",
    f"SELECT 1; {CREATE_SENTINEL}",
    f"SELECT 1; COMMIT; {CREATE_SENTINEL}",
    f"SELECT 1; ROLLBACK; {CREATE_SENTINEL}",
    f"SELECT 1; END; BEGIN READ WRITE; {CREATE_SENTINEL}; COMMIT",
    f"COMMIT; {CREATE_SENTINEL}",
    "SELECT 1 /* innocent */; DELETE FROM hubspot.deals",
    "SELECT id FROM hubspot.deals -- note\n; DELETE FROM hubspot.deals",
    f"SELECT 1;\n\n{CREATE_SENTINEL};",
    "SELECT 1; SELECT pg_sleep(10)",
]
QUOTING_AND_COMMENTS = [
    "SELECT $$x$$; DROP TABLE hubspot.deals",
    "SELECT $a$ $$ ' $a$; DROP TABLE hubspot.deals",
    "SELECT E'\\''; DROP TABLE hubspot.deals",
    "SELECT 'a''b'; DROP TABLE hubspot.deals",
    "SELECT /* nested /* comment */ ; */ 1; DROP TABLE hubspot.deals",
    "SELECT U&'\\0027'; DROP TABLE hubspot.deals",
    "SELECT 'x' -- '\n; DELETE FROM hubspot.deals",
    "SELECT 'a\\' /* ', '*/; DROP TABLE hubspot.deals; --'",
    "SELECT 1 /* unterminated; DROP TABLE hubspot.deals",
    "SELECT 'unterminated; DROP TABLE hubspot.deals",
    'SELECT "x; DROP TABLE hubspot.deals',
    "SELECT 1\x00; DROP TABLE hubspot.deals",
]
CTE_SHADOWING = [
    "SELECT * FROM (WITH pg_settings AS (SELECT 1) SELECT 1) t, pg_settings",
    "SELECT (WITH pg_authid AS (SELECT 1) SELECT 1), * FROM pg_authid",
    "WITH a AS (WITH pg_roles AS (SELECT 1) SELECT 1) SELECT * FROM a, pg_roles",
    "WITH x AS (SELECT * FROM pg_database), pg_database AS (SELECT 1) SELECT * FROM x",
    "SELECT 1 FROM (WITH pg_user AS (SELECT 1) SELECT 1) a UNION ALL SELECT 1 FROM pg_user",
    "WITH pg_class AS (SELECT 1) SELECT * FROM pg_catalog.pg_class",
    'WITH "PG_AUTHID" AS (SELECT 1) SELECT * FROM pg_authid',
    "SELECT * FROM (SELECT 1) AS pg_roles, pg_roles",
    "WITH x AS (SELECT 1) SELECT * FROM x, (WITH pg_stat_activity AS (SELECT 1) SELECT 1) z,"
    " pg_stat_activity",
    "SELECT id FROM hubspot.deals WHERE id IN (WITH pg_shadow AS (SELECT 'x') SELECT * FROM"
    " pg_shadow) OR id IN (SELECT usename FROM pg_shadow)",
]
CATALOG_AND_OWN_READS = [
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT rolname, rolpassword FROM pg_authid",
    "SELECT name, setting FROM pg_settings",
    "SELECT query FROM pg_catalog.pg_stat_activity",
    "SELECT datname FROM pg_catalog.pg_database",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM sophia.llm_calls",
    "SELECT * FROM sophia.schema_migrations",
    "SELECT * FROM public.anything",
    'SELECT * FROM "hubspot"."Deals"',
    "SELECT * FROM postgres.hubspot.deals",
    "SELECT d.id FROM hubspot.deals d JOIN pg_catalog.pg_proc p ON true",
    "SELECT (SELECT rolpassword FROM pg_catalog.pg_authid LIMIT 1)",
    "SELECT current_user",
    "SELECT session_user, current_catalog",
    "SELECT version()",
    "SELECT current_database()",
    "SELECT inet_server_addr()",
    "SELECT 'pg_authid'::regclass",
    "SELECT 'sophia_reader'::regrole",
    "SELECT to_regclass('pg_catalog.pg_authid')",
    "SELECT has_table_privilege('pg_authid', 'SELECT')",
    "SELECT table_to_xml('pg_authid', true, true, '')",
    "SELECT current_setting('data_directory')",
]
SIDE_EFFECTS = [
    "SELECT pg_sleep(10)",
    "SELECT id FROM hubspot.deals WHERE pg_sleep_for('10 seconds') IS NOT NULL",
    "SELECT pg_advisory_lock(1)",
    "SELECT pg_try_advisory_lock(42)",
    "SELECT pg_advisory_xact_lock(7)",
    "SELECT set_config('transaction_read_only', 'off', false)",
    "SELECT set_config('standard_conforming_strings', 'off', false)",
    "SELECT nextval('sophia.sync_runs_id_seq')",
    "SELECT setval('sophia.sync_runs_id_seq', 1000)",
    "SELECT lo_import('/etc/hostname')",
    "SELECT lo_create(0)",
    "SELECT lo_export(1234, '/tmp/sophia-pwned')",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT * FROM pg_read_binary_file('/etc/hostname')",
    "SELECT pg_ls_dir('.')",
    "SELECT pg_notify('sophia', 'x')",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
    "SELECT pg_cancel_backend(1)",
    "SELECT pg_reload_conf()",
    "SELECT txid_current()",
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE hubspot.deals')",
    "SELECT query_to_xml('DELETE FROM hubspot.deals', true, true, '')",
    "SELECT public.lower(name) FROM hubspot.deals",
    "SELECT 1 OPERATOR(public.+) 1",
]
RESOURCE_EXHAUSTION = [
    "SELECT generate_series(1, 1000000000)",
    "SELECT * FROM generate_series(1, 1000000000)",
    "SELECT count(*) FROM hubspot.deals, LATERAL generate_series(1, 100000000) g",
    "SELECT repeat('x', 1000000000)",
    "SELECT lpad('x', 2147483647)",
    "SELECT lpad('x', 100000000)",
    "SELECT count(*) FROM hubspot.deals a, hubspot.deals b, hubspot.deals c, hubspot.deals d,"
    " hubspot.deals e, hubspot.deals f",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "SELECT " + "(" * 20000 + "1" + ")" * 20000,
    "SELECT " + " + ".join(["1"] * 30000),
    "SELECT * FROM hubspot.deals TABLESAMPLE SYSTEM (50)",
    "SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int)",
]
STATEMENTS = [
    "COPY hubspot.deals TO '/tmp/sophia-deals.csv'",
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/sophia-pwned'",
    "COPY hubspot.owners FROM '/etc/hostname'",
    "COPY hubspot.deals TO STDOUT",
    "DO $$ BEGIN DELETE FROM hubspot.deals; END $$",
    "CALL sophia.anything()",
    "SET ROLE postgres",
    "SET LOCAL transaction_read_only = off",
    "SET SESSION AUTHORIZATION postgres",
    "RESET ALL",
    "LOCK TABLE hubspot.deals IN ACCESS EXCLUSIVE MODE",
    "LISTEN sophia_channel",
    "NOTIFY sophia_channel",
    "UNLISTEN *",
    "PREPARE sophia_stmt AS SELECT 1",
    "EXECUTE sophia_stmt",
    "DEALLOCATE ALL",
    "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM hubspot.deals",
    "DISCARD ALL",
    f"SELECT * INTO public.{SENTINEL} FROM hubspot.deals",
    f"SELECT * INTO TEMP {SENTINEL} FROM hubspot.deals",
    f"CREATE TABLE public.{SENTINEL} AS SELECT * FROM hubspot.deals",
    "SELECT * FROM hubspot.deals FOR UPDATE",
    "SELECT * FROM hubspot.deals FOR SHARE",
    "SELECT * FROM hubspot.deals FOR NO KEY UPDATE SKIP LOCKED",
    "SELECT * FROM (SELECT * FROM hubspot.deals FOR KEY SHARE) d",
    "EXPLAIN ANALYZE DELETE FROM hubspot.deals",
    "EXPLAIN SELECT * FROM hubspot.deals",
    "VACUUM hubspot.deals",
    "ANALYZE hubspot.deals",
    "CHECKPOINT",
    "TRUNCATE hubspot.deals",
    "INSERT INTO hubspot.owners (id) VALUES ('x')",
    "UPDATE hubspot.deals SET amount = 0",
    "DELETE FROM hubspot.deals",
    "MERGE INTO hubspot.owners o USING hubspot.owners s ON o.id = s.id WHEN MATCHED THEN DELETE",
    "WITH gone AS (DELETE FROM hubspot.deals RETURNING *) SELECT count(*) FROM gone",
    "WITH x AS (UPDATE hubspot.deals SET amount = 0 RETURNING id) SELECT * FROM x",
    "WITH x AS (INSERT INTO hubspot.owners (id) VALUES ('y') RETURNING id) SELECT * FROM x",
    "GRANT ALL ON hubspot.deals TO PUBLIC",
    "REVOKE SELECT ON hubspot.deals FROM sophia_reader",
    "ALTER SYSTEM SET standard_conforming_strings = off",
    f"CREATE ROLE {SENTINEL}_role",
    "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE EXTENSION IF NOT EXISTS dblink",
    "DROP TABLE hubspot.deals",
    "COMMENT ON TABLE hubspot.deals IS 'pwned'",
    "REINDEX TABLE hubspot.deals",
    "CLUSTER hubspot.deals",
    "LOAD 'plpgsql'",
    "TABLE sophia.schema_migrations",
    "VALUES (1)",
    "BEGIN",
    "SELECT $1",
]
HOSTILE = (
    STACKED + QUOTING_AND_COMMENTS + CTE_SHADOWING + CATALOG_AND_OWN_READS + SIDE_EFFECTS
    + RESOURCE_EXHAUSTION + STATEMENTS
)  # fmt: skip

# The attack of issue 13: a backslash that ends a string for the guard (standard strings)
# but escapes the quote for a server with standard_conforming_strings = off. Forced back on
# inside the guarded transaction, each runs as the harmless SELECT of constants the guard saw.
LITERAL_TRICKS = {
    f"SELECT 'a\\', ' ; COMMIT; {CREATE_SENTINEL}; SELECT 1 --'": [
        "a\\",
        f" ; COMMIT; {CREATE_SENTINEL}; SELECT 1 --",
    ],
    "SELECT 'a\\' AS x, ' ; DELETE FROM hubspot.deals; SELECT 1 --' AS y": [
        "a\\",
        " ; DELETE FROM hubspot.deals; SELECT 1 --",
    ],
    "SELECT 'it''s\\', '; DROP TABLE hubspot.deals; --'": [
        "it's\\",
        "; DROP TABLE hubspot.deals; --",
    ],
    "SELECT E'a\\\\', ' ; COMMIT; DROP TABLE hubspot.deals; --'": [
        "a\\",
        " ; COMMIT; DROP TABLE hubspot.deals; --",
    ],
    "SELECT $q$ '; DROP TABLE hubspot.deals; -- $q$": [" '; DROP TABLE hubspot.deals; -- "],
}

_FINGERPRINT = """
SELECT
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT LIKE 'pg_t%%'),
  (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT count(*) FROM pg_roles WHERE rolname LIKE %(sentinel)s),
  (SELECT count(*) FROM pg_largeobject_metadata),
  (SELECT string_agg(schemaname || '.' || sequencename || '=' || coalesce(last_value, 0),
     ',' ORDER BY 1) FROM pg_sequences),
  (SELECT obj_description('hubspot.deals'::regclass))
"""
_DATA_TABLES = [
    "hubspot.owners", "hubspot.companies", "hubspot.contacts", "hubspot.deals",
    "asana.users", "asana.projects", "asana.tasks", "slack.users", "slack.channels",
    "slack.messages", "gong.users", "gong.calls", "sophia.sync_runs", "sophia.sync_state",
]  # fmt: skip
_OTHER_SESSIONS = """
SELECT
  (SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
     WHERE d.datname = current_database() AND l.pid <> pg_backend_pid()),
  (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
     AND objid IN (1, 7, 42) AND pid <> pg_backend_pid()),
  (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
     AND pid <> pg_backend_pid() AND state <> 'idle')
"""
_SESSION_STATE = """
SELECT current_user = session_user, current_setting('standard_conforming_strings'),
       current_setting('search_path'), current_setting('statement_timeout'),
       (SELECT count(*) FROM pg_listening_channels()),
       (SELECT count(*) FROM pg_prepared_statements),
       (SELECT count(*) FROM pg_cursors)
"""


def fingerprint(url: str) -> list[Any]:
    """Everything a hostile statement could have changed, as plain values."""
    with psycopg.connect(url, autocommit=True) as conn:
        found: list[Any] = list(
            conn.execute(_FINGERPRINT, {"sentinel": SENTINEL + "%"}).fetchone() or []
        )
        for table in _DATA_TABLES:
            row = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                f" FROM {table} t"
            ).fetchone()
            found.append((table, *(row or ())))
        sentinel = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relname LIKE %s", [SENTINEL + "%"]
        ).fetchone()
        found.append(("sentinel relations", sentinel[0] if sentinel else None))
    return found


@pytest.fixture(scope="module", params=["on", "off"], ids=["scs-on", "scs-off"])
def hostile_url(
    request: pytest.FixtureRequest, pg_admin_url: str, warehouse_template: str
) -> Iterator[tuple[str, str, list[Any]]]:
    """The fixture company in a database whose standard_conforming_strings is `param`."""
    url = clone_database(pg_admin_url, warehouse_template)
    load(url)
    with psycopg.connect(url, autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        assert name is not None
        conn.execute(
            psycopg.sql.SQL("ALTER DATABASE {} SET standard_conforming_strings = {}").format(
                psycopg.sql.Identifier(str(name[0])), psycopg.sql.Literal(request.param)
            )
        )
    yield url, str(request.param), fingerprint(url)
    drop_database(pg_admin_url, url)


@pytest.fixture
def hostile(
    hostile_url: tuple[str, str, list[Any]],
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_prefix: str,
) -> Iterator[tuple[Settings, str]]:
    """Settings over that database with a short statement timeout; checks it afterwards."""
    url, scs, before = hostile_url
    for name, value in {
        "DATABASE_URL": url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": redis_prefix,
        "ASK_STATEMENT_TIMEOUT_MS": "400", "ASK_MAX_RESULT_BYTES": "1000000",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    settings = load_settings()
    yield settings, scs
    assert_untouched(settings, url, scs, before)


def assert_untouched(settings: Settings, url: str, scs: str, before: list[Any]) -> None:
    """Nothing written, nothing locked, no session state left on the pooled connection."""
    assert fingerprint(url) == before
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute(_OTHER_SESSIONS).fetchone() == (0, 0, 0)
    with pooled.read_pool(settings).pool.connection() as conn, conn.transaction():
        state = conn.execute(_SESSION_STATE).fetchone()
    assert state == (True, scs, '"$user", public', "0", 0, 0, 0)


def test_the_corpus_has_at_least_eighty_cases() -> None:
    assert len(HOSTILE) >= 80
    assert len(set(HOSTILE)) == len(HOSTILE)


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_is_refused_and_leaves_the_database_untouched(
    hostile: tuple[Settings, str], sql: str
) -> None:
    settings, _ = hostile
    with pytest.raises(SophiaError) as refused:
        run_query(settings, sql)
    assert refused.value.http_status in (403, 422), refused.value.message
    assert "\n" not in refused.value.message


@pytest.mark.parametrize("sql", list(LITERAL_TRICKS))
def test_quoting_tricks_run_as_the_constants_the_guard_read(
    hostile: tuple[Settings, str], sql: str
) -> None:
    settings, _ = hostile
    result = run_query(settings, sql)
    assert result.rows == [LITERAL_TRICKS[sql]]


WRITES_PAST_THE_GUARD = [
    *STACKED[:6],
    next(iter(LITERAL_TRICKS)),
    "DELETE FROM hubspot.deals",
    "WITH x AS (UPDATE hubspot.deals SET amount = 0 RETURNING id) SELECT * FROM x",
    f"SELECT * INTO public.{SENTINEL} FROM hubspot.deals",
    "SELECT set_config('transaction_read_only', 'off', false)",
    "SELECT nextval('sophia.sync_runs_id_seq')",
    "SELECT lo_create(0)",
    "SELECT * FROM pg_catalog.pg_authid",
    "LOCK TABLE hubspot.deals IN ACCESS EXCLUSIVE MODE",
    "SELECT * FROM hubspot.deals FOR UPDATE",
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/sophia-pwned'",
]


@pytest.mark.parametrize("sql", WRITES_PAST_THE_GUARD)
def test_the_database_refuses_writes_that_skip_the_guard(
    hostile: tuple[Settings, str], sql: str
) -> None:
    """The second wall: sent straight to the read-only session, nothing is written."""
    settings, _ = hostile
    with Reader(settings) as reader:
        assert reader.uses_reader_role()
        try:
            reader.fetch(sql, cap=10)
        except SophiaError:
            pass


def test_stacked_statements_never_reach_the_server_as_a_batch(
    hostile: tuple[Settings, str],
) -> None:
    settings, _ = hostile
    with Reader(settings) as reader, pytest.raises(SophiaError, match="multiple commands"):
        reader.fetch(f"SELECT 1; {CREATE_SENTINEL}")


def test_a_cte_name_hides_a_table_only_inside_its_own_query() -> None:
    known = {("hubspot", "deals")}
    assert guard.check("WITH pg_roles AS (SELECT 1 AS x) SELECT x FROM pg_roles", known)
    assert guard.check(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3)"
        " SELECT n FROM r",
        known,
    )
    with pytest.raises(guard.GuardError, match="needs its schema"):
        guard.check("SELECT * FROM (WITH pg_roles AS (SELECT 1) SELECT 1) t, pg_roles", known)


def test_a_byte_cap_cuts_a_result_and_says_so(hostile: tuple[Settings, str]) -> None:
    settings, _ = hostile
    result = run_query(settings, "SELECT lpad(name, 50000, '*') FROM hubspot.deals")
    assert 0 < result.row_count < 60
    assert result.truncated and result.truncated_by == "bytes"


def test_a_row_cap_still_says_rows(hostile: tuple[Settings, str]) -> None:
    settings, _ = hostile
    result = run_query(settings, "SELECT id FROM hubspot.deals ORDER BY id", limit=3)
    assert result.row_count == 3 and result.truncated_by == "rows"
    assert result.rows == [[row[0]] for row in sorted(
        run_query(settings, "SELECT id FROM hubspot.deals").rows)][:3]  # fmt: skip


def test_a_result_that_fits_is_not_marked_truncated(hostile: tuple[Settings, str]) -> None:
    settings, _ = hostile
    result = run_query(settings, "SELECT count(*) AS n FROM hubspot.deals WHERE false")
    assert result.rows == [[0]] and not result.truncated and result.truncated_by is None
    empty = run_query(settings, "SELECT id FROM hubspot.deals WHERE false")
    assert empty.rows == [] and empty.columns == ["id"] and not empty.truncated
