"""The SQL guard refuses hostile statements, and the read-only session would refuse them too."""

from __future__ import annotations

import pytest

from sophia_cli.core.bi import guard
from sophia_cli.core.bi.execute import Reader, run_query
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import Settings, load_settings

KNOWN = {("hubspot", "deals"), ("hubspot", "owners"), ("hubspot", "companies"), ("gong", "calls")}

HOSTILE = [
    "DROP TABLE hubspot.deals",
    "DELETE FROM hubspot.deals",
    "UPDATE hubspot.deals SET amount = 0",
    "INSERT INTO hubspot.owners (id) VALUES ('x')",
    "TRUNCATE hubspot.deals",
    "ALTER TABLE hubspot.deals ADD COLUMN x int",
    "CREATE TABLE hubspot.evil (id int)",
    "SELECT 1; DROP TABLE hubspot.deals",
    "SELECT 1 /* innocent */; DELETE FROM hubspot.deals",
    "SELECT * FROM hubspot.deals -- a comment\n; DROP TABLE hubspot.deals",
    "WITH gone AS (DELETE FROM hubspot.deals RETURNING *) SELECT count(*) FROM gone",
    "WITH x AS (UPDATE hubspot.deals SET amount = 0 RETURNING id) SELECT * FROM x",
    "WITH x AS (INSERT INTO hubspot.owners (id) VALUES ('y') RETURNING id) SELECT * FROM x",
    "SELECT * INTO hubspot.copy FROM hubspot.deals",
    "SELECT pg_sleep(5)",
    "SELECT id FROM hubspot.deals WHERE pg_sleep(5) IS NOT NULL",
    "SELECT lo_export(1234, '/tmp/sophia-x')",
    "SELECT lo_import('/etc/hostname')",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT * FROM pg_read_binary_file('/etc/hostname')",
    "SELECT set_config('transaction_read_only', 'off', true)",
    "SELECT nextval('sophia.sync_runs_id_seq')",
    "SELECT dblink_exec('dbname=postgres', 'DROP TABLE hubspot.deals')",
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT * FROM sophia.llm_calls",
    "SELECT * FROM sophia.schema_migrations",
    "SELECT * FROM hubspot.deals FOR UPDATE",
    "COPY hubspot.deals TO '/tmp/sophia-deals.csv'",
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/sophia-pwned'",
    "GRANT ALL ON hubspot.deals TO PUBLIC",
    "CREATE EXTENSION IF NOT EXISTS dblink",
    "SET ROLE postgres",
    "SELECT query_to_xml('DELETE FROM hubspot.deals', true, true, '')",
    "VACUUM hubspot.deals",
    "NOTIFY sophia_evil",
    "LOCK TABLE hubspot.deals IN ACCESS EXCLUSIVE MODE",
    "SELECT 1 UNION ALL SELECT count(*) FROM pg_catalog.pg_shadow",
    "SELECT * FROM unknown_schema.secrets",
    "DO $$ BEGIN DELETE FROM hubspot.deals; END $$",
    "SELECT current_setting('data_directory')",
    "SELECT setval('sophia.sync_runs_id_seq', 1)",
    "EXPLAIN ANALYZE DELETE FROM hubspot.deals",
]


def test_the_hostile_corpus_has_at_least_thirty_inputs() -> None:
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("sql", HOSTILE)
def test_guard_refuses_hostile_sql(sql: str) -> None:
    with pytest.raises(guard.GuardError):
        guard.check(sql, KNOWN)


@pytest.fixture
def short_timeout(company_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ASK_STATEMENT_TIMEOUT_MS", "300")
    return load_settings()


def test_hostile_sql_is_refused_by_the_read_only_session_too(
    short_timeout: Settings, rows_of: object
) -> None:
    """Without the guard, each statement still fails, and the data is untouched."""
    with Reader(short_timeout) as reader:
        assert reader.uses_reader_role()
        survived = []
        for sql in HOSTILE:
            try:
                reader.fetch(sql, cap=10)
            except SophiaError:
                continue
            survived.append(sql)
    assert survived == []
    assert rows_of("SELECT count(*) FROM hubspot.deals") == [[60]]  # type: ignore[operator]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM deals",  # no schema
        "SELECT * FROM hubspot.deals AS d JOIN hubspot.secret_table s ON true",
        "SELECT * FROM generate_series(1, 10)",
        "SELECT * FROM otherdb.hubspot.deals",
        "",
        ";",
        "SELEC * FROM hubspot.deals",
        "SELECT 1\x00; DROP TABLE hubspot.deals",
        "VALUES (1)",
        "SELECT my_udf(id) FROM hubspot.deals",
    ],
)
def test_guard_refuses_unknown_tables_functions_and_non_selects(sql: str) -> None:
    with pytest.raises(guard.GuardError):
        guard.check(sql, KNOWN)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT stage, count(*) FROM hubspot.deals GROUP BY 1",
        "WITH won AS (SELECT * FROM hubspot.deals WHERE is_won) SELECT count(*) FROM won",
        "SELECT id FROM hubspot.deals UNION SELECT id FROM gong.calls",
        "SELECT date_trunc('month', close_date)::date, sum(amount) FROM hubspot.deals GROUP BY 1",
        "SELECT o.first_name, count(*) FILTER (WHERE d.is_won) FROM hubspot.deals d "
        "JOIN hubspot.owners o ON o.id = d.owner_id GROUP BY 1",
        "SELECT 1 -- a trailing comment; DROP TABLE hubspot.deals",
    ],
)
def test_guard_accepts_plain_reads(sql: str) -> None:
    assert guard.check(sql, KNOWN)


def test_run_query_returns_rows_and_caps_them(settings: Settings, rows_of: object) -> None:
    result = run_query(settings, "SELECT id FROM hubspot.deals ORDER BY id", limit=5)
    assert result.row_count == 5 and result.truncated
    assert result.columns == ["id"]
    assert result.rows == rows_of("SELECT id FROM hubspot.deals ORDER BY id LIMIT 5")  # type: ignore[operator]


def test_run_query_reports_a_statement_timeout(short_timeout: Settings) -> None:
    slow = ("SELECT count(*) FROM hubspot.deals a, hubspot.deals b, hubspot.deals c, "
            "hubspot.deals d, hubspot.deals e")  # fmt: skip
    with pytest.raises(SophiaError, match="cancel"):
        run_query(short_timeout, slow)
