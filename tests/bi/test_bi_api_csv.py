"""`POST /v1/ask.csv`: the full result as a file, exactly what `sophia ask --csv` prints."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from ask_fixture_data import AS_OF
from serve_helpers import Api

QUESTION = "won revenue by owner last quarter"


def test_csv_is_byte_for_byte_what_the_cli_prints(
    api: Api, token: Callable[..., str], sophia: Callable[..., object]
) -> None:
    response = api.post(
        "/v1/ask.csv", token=token("ask"), json={"question": QUESTION, "as_of": AS_OF.isoformat()}
    )
    assert response.status_code == 200, response.text
    printed = sophia("ask", QUESTION, "--as-of", AS_OF.isoformat(), "--csv")
    assert printed.exit_code == 0, printed.stderr  # type: ignore[attr-defined]
    assert response.text == printed.stdout  # type: ignore[attr-defined]


def test_csv_has_headers_in_words_and_every_row(api: Api, token: Callable[..., str]) -> None:
    body = {"question": "deals by company", "as_of": AS_OF.isoformat()}
    answer = api.post("/v1/ask", token=token("ask"), json=body).json()
    response = api.post("/v1/ask.csv", token=token("ask"), json=body)
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][0] == "company"
    assert len(rows) - 1 == len(answer["rows"])


def test_csv_downloads_as_an_attachment_named_after_the_question(
    api: Api, token: Callable[..., str]
) -> None:
    response = api.post(
        "/v1/ask.csv", token=token("ask"), json={"question": "Won revenue, by owner?!"}
    )
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="won-revenue-by-owner.csv"'
    )


def test_a_refusal_is_the_same_json_error_as_ask(api: Api, token: Callable[..., str]) -> None:
    body = {"question": "what is the airspeed of a swallow"}
    refused = api.post("/v1/ask.csv", token=token("ask"), json=body)
    asked = api.post("/v1/ask", token=token("ask"), json=body)
    assert refused.status_code == asked.status_code == 422
    assert refused.headers["content-type"] == "application/json"
    assert refused.json() == asked.json()
    assert refused.json()["suggestions"]


def test_a_malformed_body_is_422_not_500(api: Api, token: Callable[..., str]) -> None:
    response = api.post("/v1/ask.csv", token=token("ask"), json={"question": ""})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_csv_needs_the_ask_scope(api: Api, token: Callable[..., str]) -> None:
    response = api.post("/v1/ask.csv", token=token("query"), json={"question": QUESTION})
    assert response.status_code == 403
