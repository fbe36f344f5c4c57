"""The LLM path through the squad, against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from ask_fake_openai import FakeOpenAI
from ask_fixture_data import AS_OF
from ask_helpers import interp, same_rows

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.settings import Settings

VALID = json.dumps({"metrics": ["won_revenue"], "dimensions": ["owner"],
                    "time": {"phrase": "last quarter"}, "order": {"by": "won_revenue", "desc": True},  # noqa: E501
                    "limit": 2})  # fmt: skip
WANT_SQL = (
    "SELECT o.first_name || ' ' || o.last_name AS n, sum(amount) AS v FROM hubspot.deals d "
    "LEFT JOIN hubspot.owners o ON o.id = d.owner_id WHERE NOT d.archived AND is_won AND "
    "close_date >= '2026-04-01' AND close_date < '2026-07-01' GROUP BY 1 ORDER BY v DESC, n LIMIT 2"
)


def test_valid_model_output_answers_with_source_llm(
    llm_settings: Settings, fake_llm: FakeOpenAI, rows_of: object
) -> None:
    fake_llm.script(VALID)
    answer = ask(llm_settings, "who brought in the most money last quarter?", AS_OF)
    assert answer.source == "llm"
    assert same_rows(answer.rows, rows_of(WANT_SQL))  # type: ignore[operator]
    assert len(fake_llm.requests) == 1
    system = fake_llm.requests[0]["messages"][0]["content"]
    assert "won_revenue" in system and "2026-07-15" in system


def test_invalid_then_valid_output_gets_one_retry_with_the_error(
    llm_settings: Settings, fake_llm: FakeOpenAI, rows_of: object
) -> None:
    bad = json.dumps({"metrics": ["revenue_growth"], "dimensions": ["owner"]})
    fake_llm.script(bad, VALID)
    answer = ask(llm_settings, "who brought in the most money last quarter?", AS_OF)
    assert answer.source == "llm"
    assert same_rows(answer.rows, rows_of(WANT_SQL))  # type: ignore[operator]
    assert len(fake_llm.requests) == 2
    retry = fake_llm.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": bad}
    assert "revenue_growth" in retry[-1]["content"] and "invalid" in retry[-1]["content"]


def test_invalid_output_twice_falls_back_to_the_rules_parser(
    llm_settings: Settings, fake_llm: FakeOpenAI, rows_of: object
) -> None:
    fake_llm.script("Sure! Revenue was great.", '{"metrics": ["won_revenue"], "filters": '
                    '[{"dimension": "company", "values": ["Wayne Enterprises"]}]}')  # fmt: skip
    answer = ask(llm_settings, "top 2 owners by won revenue last quarter", AS_OF)
    assert answer.source == "rules"
    assert len(fake_llm.requests) == 2
    assert same_rows(answer.rows, rows_of(WANT_SQL))  # type: ignore[operator]
    assert any("invalid twice" in note for note in interp(answer)["notes"])


def test_filter_values_from_the_model_must_exist_in_the_data(
    llm_settings: Settings, fake_llm: FakeOpenAI, rows_of: object
) -> None:
    reply = json.dumps({"metrics": ["deals_won"], "filters": [{"dimension": "company",
                        "values": ["acme corp"]}]})  # fmt: skip
    fake_llm.script(reply)
    answer = ask(llm_settings, "how many deals did Acme sign", AS_OF)
    assert answer.source == "llm"
    assert interp(answer)["filters"] == [
        {"dimension": "company", "values": ["Acme Corp"], "exclude": False}
    ]
    want = rows_of(
        "SELECT count(*) FROM hubspot.deals d JOIN hubspot.companies c ON c.id = "  # type: ignore[operator]
        "d.company_id WHERE is_won AND NOT d.archived AND c.name = 'Acme Corp'"
    )
    assert answer.rows == want


def test_model_saying_not_covered_still_refuses_with_suggestions(
    llm_settings: Settings,
    fake_llm: FakeOpenAI,
    sophia,  # type: ignore[no-untyped-def]
) -> None:
    fake_llm.script('{"not_covered": true}')
    result = sophia("ask", "what is our churn rate", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["suggestions"]


def test_allow_llm_sql_runs_guarded_model_sql_for_questions_outside_the_layer(
    llm_settings: Settings, fake_llm: FakeOpenAI, rows_of: object
) -> None:
    sql = "SELECT domain, count(*) FROM hubspot.companies GROUP BY 1"
    fake_llm.script('{"not_covered": true}', json.dumps({"sql": sql}))
    answer = ask(llm_settings, "companies per email domain", AS_OF, allow_llm_sql=True)
    assert answer.source == "llm" and interp(answer)["parser"] == "llm-sql"
    assert answer.rows == rows_of(sql)  # type: ignore[operator]


def test_allow_llm_sql_never_runs_a_write_from_the_model(
    llm_settings: Settings, fake_llm: FakeOpenAI, rows_of: object
) -> None:
    from sophia_cli.core.errors import NotUnderstoodError

    fake_llm.script('{"not_covered": true}', json.dumps({"sql": "DELETE FROM hubspot.deals"}))
    with pytest.raises(NotUnderstoodError, match="no safe SQL"):
        ask(llm_settings, "remove all deals please", AS_OF, allow_llm_sql=True)
    assert rows_of("SELECT count(*) FROM hubspot.deals") == [[60]]  # type: ignore[operator]


def test_with_an_llm_search_questions_get_a_summary_with_citations(
    search_env: None, llm_settings: Settings, fake_llm: FakeOpenAI
) -> None:
    fake_llm.script(
        "Customers find the enterprise tier too expensive [1] and ask for discounts [2]."
    )
    answer = ask(llm_settings, "what are people saying about pricing", AS_OF)
    assert answer.answer.endswith("ask for discounts [2].")
    assert answer.source == "llm"
    prompt = fake_llm.requests[-1]["messages"][-1]["content"]
    assert "[1]" in prompt and "pricing" in prompt


def test_the_model_fills_the_richer_query_comparisons_included(
    llm_settings: Settings, fake_llm: FakeOpenAI, rows_of: object
) -> None:
    reply = json.dumps({"metrics": ["won_revenue"], "time": {"phrase": "this quarter"},
                        "compare_to": {"phrase": "last quarter"},
                        "filters": [{"dimension": "company", "values": ["Acme Corp"],
                                     "exclude": True}]})  # fmt: skip
    fake_llm.script(reply)
    answer = ask(llm_settings, "how is revenue outside Acme doing against last quarter", AS_OF)
    assert answer.source == "llm"
    assert interp(answer)["compare_to"]["dates"] == "2026-04-01 to 2026-06-30"
    want = rows_of(  # type: ignore[operator]
        "SELECT coalesce(sum(amount), 0) FROM hubspot.deals d LEFT JOIN hubspot.companies c "
        "ON c.id = d.company_id WHERE NOT d.archived AND is_won AND c.name IS DISTINCT FROM "
        "'Acme Corp' AND close_date >= '2026-04-01' AND close_date < '2026-07-01'"
    )
    assert answer.rows[0][1] == want[0][0]
