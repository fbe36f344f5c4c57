"""`sophia ask`, `sophia query`: JSON shape, refusals with suggestions, SQL, charts, cache."""

from __future__ import annotations

import json

import psycopg
import pytest

ASK_KEYS = {"answer", "interpretation", "sql", "columns", "rows", "source", "as_of"}


def test_json_has_exactly_the_documented_shape(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "won revenue by owner last quarter", "--as-of", "2026-07-15", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == ASK_KEYS
    assert body["source"] == "rules" and body["as_of"] == "2026-07-15"
    assert body["columns"] == ["owner", "won_revenue"]
    assert all(isinstance(row, list) and len(row) == 2 for row in body["rows"])
    assert body["interpretation"]["metrics"] == [{"name": "won_revenue", "label": "won revenue"}]
    assert body["interpretation"]["freshness"] == {"hubspot": "2026-07-14T05:01:00+00:00"}
    assert body["sql"].startswith("SELECT")


def test_sql_shows_values_but_runs_them_as_parameters(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    from sophia_cli.core.bi.compile import CompileOptions, compile_query
    from sophia_cli.core.bi.semantic import load_layer
    from sophia_cli.core.bi.structured import Filter, StructuredQuery

    query = StructuredQuery(metrics=["deals_won"], filters=[Filter(dimension="company",
                            values=["x'); DROP TABLE hubspot.deals; --"])])  # fmt: skip
    compiled = compile_query(
        load_layer(), query, CompileOptions(as_of=__import__("datetime").date(2026, 7, 15))
    )
    assert "DROP" not in compiled.sql and "%(filter_0)s" in compiled.sql
    assert compiled.params["filter_0"] == ["x'); DROP TABLE hubspot.deals; --"]


def test_not_covered_exits_3_with_suggestions(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "what is our churn rate", "--json")
    assert result.exit_code == 3
    body = json.loads(result.stdout)
    assert set(body) == {"error", "suggestions"}
    assert body["error"]["code"] == "not_understood"
    assert len(body["suggestions"]) >= 3
    assert all(isinstance(s, str) and s for s in body["suggestions"])


@pytest.mark.parametrize(
    "question",
    [
        "revenue by weather",  # a dimension that does not exist
        "slack messages by industry",  # a dimension of another model
        "what is the meaning of life",
        "top 5 won revenue",  # a ranking with nothing to rank
        "deals for Wayne Enterprises",  # a company that is not in the data
        "",
    ],
)
def test_questions_outside_the_layer_are_refused_not_guessed(
    sophia, company_env: dict[str, str], question: str
) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", question, "--as-of", "2026-07-15")
    assert result.exit_code == 3, result.stdout
    assert "not covered" in result.stderr and "Try:" in result.stderr
    assert result.stdout == ""


def test_human_output_has_sentence_interpretation_table_chart_and_freshness(
    sophia, company_env: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    result = sophia(
        "ask", "won revenue by month this year", "--as-of", "2026-07-15", "--sql",
        "--format", "table",  # what a terminal shows (piped, stdout carries the rows alone)
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Won revenue this year (2026-01-01 to 2026-12-31, by close date)")
    assert lines[1].startswith("understood as: metric won revenue; per month")
    assert "2026-07-01" in result.stdout  # the table
    assert "won_revenue by month" in result.stdout and "│█" in result.stdout  # the chart
    assert "hubspot: last synced 2026-07-14" in result.stdout
    assert "date_trunc('month', d.close_date)" in result.stdout


def test_no_chart_leaves_the_chart_out(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia(
        "ask", "won revenue by month this year", "--as-of", "2026-07-15", "--no-chart",
        "--format", "table",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "│█" not in result.stdout


def test_bad_as_of_is_a_usage_error(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "calls", "--as-of", "15/07/2026")
    assert result.exit_code == 2 and "--as-of" in result.stderr


def test_a_repeated_question_is_served_from_the_cache(company_env: dict[str, str]) -> None:
    from ask_fixture_data import AS_OF

    from sophia_cli.core.bi.ask import ask
    from sophia_cli.core.settings import load_settings

    settings = load_settings()
    first = ask(settings, "calls by direction", AS_OF)
    second = ask(settings, "calls by direction", AS_OF)
    assert not first.cached and second.cached
    assert second.model_dump() == first.model_dump()


def test_a_new_sync_invalidates_cached_answers(
    company_env: dict[str, str], company_url: str
) -> None:
    from ask_fixture_data import AS_OF

    from sophia_cli.core.bi.ask import ask
    from sophia_cli.core.settings import load_settings

    settings = load_settings()
    ask(settings, "messages by channel", AS_OF)
    with psycopg.connect(company_url, autocommit=True) as conn:
        conn.execute("INSERT INTO slack.messages (channel_id, ts, user_id, posted_at) "
                     "VALUES ('C1', '1.extra', 's1', '2026-07-14 10:00Z')")  # fmt: skip
        stale = ask(settings, "messages by channel", AS_OF)
        conn.execute("INSERT INTO sophia.sync_runs (run_id, source, stream, finished_at, status) "
                     "VALUES ('r9', 'slack', 'messages', now(), 'success')")  # fmt: skip
        fresh = ask(settings, "messages by channel", AS_OF)
        conn.execute("DELETE FROM slack.messages WHERE ts = '1.extra'")
        conn.execute("DELETE FROM sophia.sync_runs WHERE run_id = 'r9'")
    assert stale.cached and not fresh.cached
    assert sum(r[1] for r in fresh.rows) == sum(r[1] for r in stale.rows) + 1


def test_query_prints_rows_as_json(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("query", "SELECT name FROM hubspot.companies ORDER BY name LIMIT 2", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["columns"] == ["name"] and body["rows"] == [["Acme Corp"], ["Globex"]]
    assert body["truncated"] is False


def test_query_refusal_is_one_line_and_exit_2(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("query", "DELETE FROM hubspot.deals")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: only SELECT is allowed")
    body = json.loads(sophia("query", "SELECT pg_sleep(1)", "--json").stdout)
    assert body["error"]["code"] == "sql_refused"


def test_user_semantic_file_adds_a_metric(
    sophia, company_env: dict[str, str], tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "semantic.yaml"
    extra.write_text(
        "metrics:\n  big_deals:\n    model: deals\n    label: big deals\n    expr: count(*)\n"
        "    where: d.amount >= 75000\n    time: d.created_at\n    synonyms: [big deals, whales]\n"
    )
    monkeypatch.setenv("SOPHIA_SEMANTIC_FILE", str(extra))
    body = json.loads(sophia("ask", "whales", "--json").stdout)
    assert body["columns"] == ["big_deals"]
    want = json.loads(sophia("query", "SELECT count(*) FROM hubspot.deals WHERE amount >= 75000 "
                             "AND NOT archived", "--json").stdout)["rows"]  # fmt: skip
    assert body["rows"] == want


def test_a_broken_semantic_file_is_a_config_error(
    sophia, company_env: dict[str, str], tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "semantic.yaml"
    extra.write_text(
        "metrics:\n  x:\n    model: nowhere\n    label: x\n    expr: count(*)\n    time: t\n"
    )
    monkeypatch.setenv("SOPHIA_SEMANTIC_FILE", str(extra))
    result = sophia("ask", "calls")
    assert result.exit_code == 2 and "unknown model 'nowhere'" in result.stderr


def test_an_unknown_key_in_the_semantic_file_is_a_config_error_not_ignored(
    sophia, company_env: dict[str, str], tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    extra = tmp_path / "semantic.yaml"
    # An unquoted comma in a flow mapping splits the expression and leaves a stray key "1)".
    extra.write_text(
        "models:\n  calls:\n    source: gong\n    table: gong.calls\n    alias: g\n"
        "    list_columns:\n      minutes: {expr: round(g.duration_seconds / 60.0, 1), label: m}\n"
    )
    monkeypatch.setenv("SOPHIA_SEMANTIC_FILE", str(extra))
    result = sophia("ask", "calls")
    assert result.exit_code == 2 and "1)" in result.stderr


def test_csv_writes_every_row_with_headers_in_words(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    full = json.loads(sophia("ask", "deals created by company", "--as-of", "2026-07-15",
                             "--json").stdout)  # fmt: skip
    result = sophia("ask", "deals created by company", "--as-of", "2026-07-15", "--csv")
    assert result.exit_code == 0, result.stderr
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == ["company", "deals created"]
    assert len(table) - 1 == len(full["rows"])


def test_format_json_writes_records_keyed_by_header(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "won revenue by owner", "--as-of", "2026-07-15", "--format", "json")
    records = json.loads(result.stdout)
    assert records and set(records[0]) == {"owner", "won revenue"}


def test_list_names_metrics_dimensions_and_examples(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    body = json.loads(sophia("ask", "--list", "--json").stdout)
    assert {"metrics", "dimensions", "examples"} == set(body)
    won = next(m for m in body["metrics"] if m["name"] == "won_revenue")
    assert won["dated_by"] == "close date" and "owner" in won["dimensions"]
    assert len(body["examples"]) >= 5


def test_ask_without_a_question_says_how_to_ask(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask")
    assert result.exit_code == 2
    assert "needs a question" in result.stderr and "--list" in result.stderr


def test_a_refusal_names_what_is_synced_and_what_can_be_asked(  # type: ignore[no-untyped-def]
    sophia, company_env: dict[str, str]
) -> None:
    body = json.loads(sophia("ask", "what is our churn rate", "--json").stdout)
    hint = body["error"]["hint"]
    assert "Synced: asana (tasks created" in hint and "hubspot (deals created" in hint
    assert "deals won" in hint and "--list" in hint


@pytest.mark.parametrize("question", ["top 3 owners by won revenue", "bottom 3 owners by calls"])
def test_a_ranking_chart_keeps_the_order_of_the_table(
    sophia, company_env: dict[str, str], question: str
) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", question, "--as-of", "2026-07-15", "--json")
    answer = json.loads(result.stdout)
    table = [row[0] for row in answer["rows"]]
    drawn = sophia("ask", question, "--as-of", "2026-07-15", "--format", "table")
    assert drawn.exit_code == 0, drawn.stderr
    lines = drawn.stdout.splitlines()
    title = lines.index(f"{answer['columns'][1]} by {answer['columns'][0]}")
    charted = [line.split("│")[0].strip() for line in lines[title + 1 : title + 1 + len(table)]]
    assert len(table) >= 2 and charted == table
