"""The page's calls go through the usual scopes: an ask token sees answers, not operations;
an admin token reaches every panel (sync status, budget, spend by day)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from serve_helpers import Api

ADMIN_PANELS = ["/v1/sync/status", "/v1/squad/budget", "/v1/squad/spend?by=day&days=14"]
ASK_ROUTES = ["/v1/me", "/v1/ask/suggest?q=won", "/v1/data-version"]


@pytest.mark.parametrize("path", ADMIN_PANELS)
def test_an_ask_token_cannot_read_the_operations_panels(
    api: Api, token: Callable[..., str], path: str
) -> None:
    response = api.get(path, token=token("ask"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("path", ADMIN_PANELS + ASK_ROUTES)
def test_an_admin_token_reaches_every_route_the_page_calls(
    api: Api, token: Callable[..., str], path: str
) -> None:
    response = api.get(path, token=token("admin"))
    assert response.status_code == 200, response.text


def test_spend_by_day_covers_the_last_14_days(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/squad/spend", token=token("admin"), params={"by": "day", "days": 14})
    body = response.json()
    assert body["by"] == "day"
    assert body["days"] == 14


def test_spend_refuses_an_unknown_grouping_with_422(api: Api, token: Callable[..., str]) -> None:
    response = api.get("/v1/squad/spend", token=token("admin"), params={"by": "hour"})
    assert response.status_code == 422
