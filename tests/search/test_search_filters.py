"""Filters people use: source, author, channel or call, time, and customers only."""

from __future__ import annotations

import json
from datetime import date

import pytest
from search_world import PARENT, PRICE_OBJECTION

from sophia_cli.core.errors import InputError
from sophia_cli.core.search.search import SearchFilters, search
from sophia_cli.core.search.voice import audience_topic
from sophia_cli.core.settings import Settings

REPLY = "slack:C1:1782036000.000000"


def _ids(settings: Settings, text: str, **filters: object) -> set[str]:
    found = search(settings, text, mode="bm25", filters=SearchFilters(**filters))  # type: ignore[arg-type]
    return {hit.id for hit in found.hits}


def test_source_keeps_one_source(world: Settings) -> None:
    assert _ids(world, "pricing", source="asana") == {"asana:t1"}


def test_author_matches_part_of_a_name_any_case(world: Settings) -> None:
    assert _ids(world, "pricing onboarding", author="dana") == {
        f"slack:C1:{PARENT}", "gong:g2:7000"}  # fmt: skip


def test_channel_keeps_one_slack_channel(world: Settings) -> None:
    assert _ids(world, "lunch pricing renewal", source="slack", place="#random") == {
        "slack:C2:1777723200.000000"}  # fmt: skip


def test_call_keeps_one_gong_call(world: Settings) -> None:
    found = _ids(world, "onboarding price", source="gong", place="globex")
    assert found == {"gong:g2:0", "gong:g2:7000"}


def test_since_and_until_bound_the_time(world: Settings) -> None:
    found = _ids(world, "pricing price renewal", since=date(2026, 6, 1), until=date(2026, 6, 15))
    assert found == {PRICE_OBJECTION, "gong:g1:0", "gong:g1:12000"}


def test_a_time_phrase_in_the_text_becomes_a_filter(world: Settings) -> None:
    results = search(world, "pricing last month", as_of=date(2026, 7, 15))
    assert (results.time_phrase, results.filters.since, results.filters.until) == (
        "last month", date(2026, 6, 1), date(2026, 7, 1))  # fmt: skip
    assert results.query == "pricing"
    assert all(hit.time and hit.time.month == 6 for hit in results.hits)


def test_customers_in_the_text_keep_external_speakers_only(world: Settings) -> None:
    results = search(world, "what did customers say about pricing", as_of=date(2026, 7, 15))
    assert results.filters.external_only
    assert {hit.id for hit in results.hits} == {PRICE_OBJECTION}
    assert {hit.affiliation for hit in results.hits} == {"external"}


def test_a_customer_as_a_topic_is_not_a_filter(world: Settings) -> None:
    assert not search(world, "customer discount").filters.external_only


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("what did customers say about pricing", "pricing"),
        ("what are clients telling us about SSO", "SSO"),
        ("prospects asking for a discount", "discount"),
        ("have our buyers been complaining about onboarding", "onboarding"),
        ("did the customer mention a competitor", "competitor"),
        ("when will the prospect sign the contract", "sign contract"),
        ("customer objections to the price", "price"),
        ("pushback from prospects on security", "security"),
        ("feedback from clients on the renewal terms", "renewal terms"),
        ("customer complaints", "complaints"),
        ("did any client push back on the quote", "quote"),  # the price quote is the topic
        ("what's the customer feedback on the contract", "contract"),
        ("what do customers dislike about the dashboards", "dashboards"),
    ],
)
def test_customer_voice_in_many_phrasings_keeps_the_topic_words(text: str, topic: str) -> None:
    assert audience_topic(text) == (True, topic)


@pytest.mark.parametrize(
    "text",
    ["customers stuck in a login loop", "where is customer data stored", "customer success plan",
     "prospect list for Q3", "customers"],
)  # fmt: skip
def test_customers_as_the_subject_matter_are_no_audience(text: str) -> None:
    assert audience_topic(text) == (False, text)


def test_customers_said_nothing_on_the_topic_says_so_and_shows_everyone(world: Settings) -> None:
    results = search(world, "what did customers say about lunch")
    assert results.note and "no customer or prospect" in results.note
    assert not results.filters.external_only
    assert results.hits[0].id == "slack:C2:1777723200.000000"  # a colleague's message


def test_an_explicit_external_option_is_never_widened(world: Settings) -> None:
    found = search(world, "what did customers say about lunch",
                   filters=SearchFilters(external_only=True))  # fmt: skip
    assert found.filters.external_only and found.note is None
    assert {hit.affiliation for hit in found.hits} <= {"external"}


def test_cli_channel_and_external_options(world: Settings, sophia) -> None:  # type: ignore[no-untyped-def]
    result = sophia("search", "renewal", "--channel", "deals", "--json")
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["filters"]["source"] == "slack" and {h["id"] for h in body["hits"]} <= {
        f"slack:C1:{PARENT}", REPLY}  # fmt: skip
    external = json.loads(sophia("search", "price", "--external", "--json").stdout)
    assert {h["affiliation"] for h in external["hits"]} == {"external"}


def test_cli_refuses_channel_with_call(world: Settings, sophia) -> None:  # type: ignore[no-untyped-def]
    result = sophia("search", "pricing", "--channel", "deals", "--call", "acme")
    assert result.exit_code != 0 and "cannot be combined" in result.stderr


@pytest.mark.parametrize(
    ("text", "filters"),
    [("", {}), ("pricing", {"source": "hubspot"}),
     ("pricing", {"since": date(2026, 7, 1), "until": date(2026, 6, 1)})],
)  # fmt: skip
def test_bad_input_is_refused(world: Settings, text: str, filters: dict[str, object]) -> None:
    with pytest.raises(InputError):
        search(world, text, filters=SearchFilters(**filters))  # type: ignore[arg-type]


def test_words_asking_for_something_said_put_tasks_behind_conversations(world: Settings) -> None:
    def asana_score(text: str) -> float:
        hits = search(world, text, mode="bm25").hits
        return next(hit.score for hit in hits if hit.id == "asana:t1")

    # "feedback" matches no unit, so BM25 scores the task alike; the prior halves it.
    assert asana_score("pricing feedback") == pytest.approx(asana_score("pricing") / 2, abs=1e-3)


def test_a_caller_that_read_customer_voice_itself_gets_the_same_handling(world: Settings) -> None:
    said = search(world, "price", voice=True)  # ask's parser found "what did customers say"
    assert said.filters.external_only and said.note is None
    assert said.hits[0].id == PRICE_OBJECTION
    unsaid = search(world, "lunch", voice=True)
    assert not unsaid.filters.external_only and unsaid.note
