"""`GET /v1/me`: any valid token learns its subject, scopes and expiry (the page decides
from it whether to show the admin panels)."""

from __future__ import annotations

from collections.abc import Callable

from serve_helpers import Api


def test_me_names_the_tokens_subject_scopes_and_expiry(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/me", token=token("ask", "squad", sub="dana"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == "dana"
    assert body["scopes"] == ["ask", "squad"]
    assert isinstance(body["expires_at"], int)


def test_me_answers_a_token_of_any_scope(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/me", token=token("sync", sub="cron"))
    assert response.status_code == 200
    assert response.json()["scopes"] == ["sync"]


def test_me_without_a_token_is_401_in_the_usual_error_shape(api: Api) -> None:
    response = api.get("/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_me_with_a_forged_token_is_401(api: Api, token: Callable[..., str]) -> None:
    forged = token("admin")[:-4] + "AAAA"
    assert api.get("/v1/me", token=forged).status_code == 401
