"""`/v1/pins`: each token subject's dashboard of pinned questions, in PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from serve_helpers import Api

from sophia_cli.core.settings import Settings

QUESTION = "won revenue by month this year"


@pytest.fixture
def pins_api(api: Api) -> Api:
    """The module's server: tests share its warehouse, so each pins as subjects of its own."""
    return api


@pytest.fixture
def token(token: Callable[..., str]) -> Callable[..., str]:
    """Tokens whose subjects are this test's own ("dana" becomes "dana-1f3e…")."""
    run = uuid.uuid4().hex[:8]

    def make(*scopes: str, sub: str = "tester", ttl: int = 300) -> str:
        return token(*scopes, sub=f"{sub}-{run}", ttl=ttl)

    return make


def _pin(api: Api, token: str, question: str = QUESTION, **extra: Any) -> Any:
    return api.post("/v1/pins", token=token, json={"question": question, **extra})


def test_pinning_answers_201_with_the_pin(pins_api: Api, token: Callable[..., str]) -> None:
    response = _pin(pins_api, token("ask"), title="Revenue")
    assert response.status_code == 201, response.text
    pin = response.json()
    assert pin["question"] == QUESTION
    assert pin["title"] == "Revenue"
    assert pin["position"] == 1
    assert {"id", "created_at"} <= pin.keys()


def test_the_title_defaults_to_the_question(pins_api: Api, token: Callable[..., str]) -> None:
    assert _pin(pins_api, token("ask")).json()["title"] == QUESTION


def test_pins_are_listed_in_the_order_they_were_pinned_with_the_data_version(
    pins_api: Api, token: Callable[..., str]
) -> None:
    ask = token("ask")
    for question in ("deals by stage", "open tasks by project", QUESTION):
        assert _pin(pins_api, ask, question).status_code == 201
    body = pins_api.get("/v1/pins", token=ask).json()
    assert [p["question"] for p in body["pins"]] == [
        "deals by stage",
        "open tasks by project",
        QUESTION,
    ]
    assert [p["position"] for p in body["pins"]] == [1, 2, 3]
    version = pins_api.get("/v1/data-version", token=ask).json()["version"]
    assert body["data_version"] == version


def test_the_same_question_again_is_200_with_the_pin_already_there(
    pins_api: Api, token: Callable[..., str]
) -> None:
    first = _pin(pins_api, token("ask")).json()
    again = _pin(pins_api, token("ask"), "  won revenue   by month this year ")
    assert again.status_code == 200
    assert again.json() == first
    assert len(pins_api.get("/v1/pins", token=token("ask")).json()["pins"]) == 1


def test_a_subject_never_sees_another_subjects_pins(
    pins_api: Api, token: Callable[..., str]
) -> None:
    _pin(pins_api, token("ask", sub="dana"))
    assert pins_api.get("/v1/pins", token=token("ask", sub="sam")).json()["pins"] == []


def test_a_subject_cannot_delete_another_subjects_pin(
    pins_api: Api, token: Callable[..., str]
) -> None:
    dana = token("ask", sub="dana")
    pin_id = _pin(pins_api, dana).json()["id"]
    refused = pins_api.request("DELETE", f"/v1/pins/{pin_id}", token=token("ask", sub="sam"))
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "not_found"
    assert [p["id"] for p in pins_api.get("/v1/pins", token=dana).json()["pins"]] == [pin_id]


def test_the_same_question_is_pinned_separately_per_subject(
    pins_api: Api, token: Callable[..., str]
) -> None:
    assert _pin(pins_api, token("ask", sub="dana")).status_code == 201
    assert _pin(pins_api, token("ask", sub="sam")).status_code == 201


def test_unpinning_answers_204_and_the_pin_is_gone(
    pins_api: Api, token: Callable[..., str]
) -> None:
    ask = token("ask")
    pin_id = _pin(pins_api, ask).json()["id"]
    response = pins_api.request("DELETE", f"/v1/pins/{pin_id}", token=ask)
    assert response.status_code == 204
    assert response.content == b""
    assert pins_api.get("/v1/pins", token=ask).json()["pins"] == []
    assert pins_api.request("DELETE", f"/v1/pins/{pin_id}", token=ask).status_code == 404


def test_the_fifty_first_pin_is_409_with_a_hint(pins_api: Api, token: Callable[..., str]) -> None:
    ask = token("ask")
    for n in range(50):
        assert _pin(pins_api, ask, f"deals by stage {n}").status_code == 201
    response = _pin(pins_api, ask, "one too many")
    assert response.status_code == 409
    error = response.json()["error"]
    assert "50" in error["message"]
    assert "DELETE /v1/pins" in error["hint"]


def test_the_same_question_at_the_limit_is_still_200(
    pins_api: Api, token: Callable[..., str]
) -> None:
    ask = token("ask")
    for n in range(50):
        _pin(pins_api, ask, f"deals by stage {n}")
    assert _pin(pins_api, ask, "deals by stage 0").status_code == 200


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"question": "x" * 2001}, "at most 2000"),
        ({"question": "   "}, "empty"),
        ({"question": QUESTION, "title": "t" * 201}, "at most 200"),
        ({"question": "won\u0000 revenue"}, "NUL"),
        ({"question": QUESTION, "title": "a\u0000"}, "NUL"),
        ({"question": 7}, "question"),
        ({}, "question"),
    ],
)
def test_bad_pins_are_422_saying_what_is_wrong(
    pins_api: Api, token: Callable[..., str], body: dict[str, Any], words: str
) -> None:
    response = pins_api.post("/v1/pins", token=token("ask"), json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert words in response.json()["error"]["message"]


def test_a_question_of_2000_characters_can_be_pinned(
    pins_api: Api, token: Callable[..., str]
) -> None:
    assert _pin(pins_api, token("ask"), "x" * 2000).status_code == 201


@pytest.mark.parametrize("pin_id", ["abc", "0", str(2**70)])
def test_a_malformed_pin_id_is_422_not_500(
    pins_api: Api, token: Callable[..., str], pin_id: str
) -> None:
    response = pins_api.request("DELETE", f"/v1/pins/{pin_id}", token=token("ask"))
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v1/pins"), ("POST", "/v1/pins"), ("DELETE", "/v1/pins/1")]
)
def test_pins_need_the_ask_scope(
    pins_api: Api, token: Callable[..., str], method: str, path: str
) -> None:
    response = pins_api.request(method, path, token=token("sync"), json={"question": QUESTION})
    assert response.status_code == 403


def test_the_reader_role_cannot_read_the_pins_table(company_url: str) -> None:
    with psycopg.connect(company_url, autocommit=True) as conn:
        conn.execute("SET ROLE sophia_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM sophia.pinned_questions")


def test_guarded_sql_cannot_read_the_pins_table(
    pins_api: Api, token: Callable[..., str], bi_settings: Settings
) -> None:
    _pin(pins_api, token("ask", sub="dana"))
    response = pins_api.post(
        "/v1/query",
        token=token("query", sub="sam"),
        json={"sql": "SELECT question FROM sophia.pinned_questions"},
    )
    assert response.status_code == 422
    assert QUESTION not in response.text


def test_concurrent_pins_never_pass_the_limit(
    bi_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    make_api: Callable[..., Api],
    token: Callable[..., str],
) -> None:
    import asyncio

    from sophia_cli.core.settings import load_settings

    monkeypatch.setenv("SOPHIA_TOKEN_CONCURRENCY", "0")  # let all of them in at once
    api = make_api(load_settings())
    ask = token("ask")
    for n in range(45):
        _pin(api, ask, f"deals by stage {n}")
    headers = {"Authorization": f"Bearer {ask}"}

    async def burst() -> list[int]:
        calls = [
            api.client.post("/v1/pins", headers=headers, json={"question": f"open tasks {n}"})
            for n in range(15)
        ]
        return [response.status_code for response in await asyncio.gather(*calls)]

    statuses = api.run(burst())
    assert sorted(statuses) == [201] * 5 + [409] * 10
    assert len(api.get("/v1/pins", token=ask).json()["pins"]) == 50
