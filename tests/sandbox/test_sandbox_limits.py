"""Rate limits: 429 with Retry-After and the API's body; accepted requests stay within limits."""

from __future__ import annotations

import time
from typing import Any

import pytest

from sophia_cli.sandbox.ratelimit import LIMITS, Limit, RateLimiter


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_limiter_refuses_past_the_limit_and_reopens_after_the_window() -> None:
    limiter = RateLimiter("off", {"x": Limit(2, 1.0)})
    bucket = [("c", "x")]
    assert limiter.acquire(bucket, 100.0) is None
    assert limiter.acquire(bucket, 100.1) is None
    assert limiter.acquire(bucket, 100.2) == 1
    assert limiter.acquire(bucket, 101.05) is None


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter("turbo")  # type: ignore[arg-type]


def test_fast_mode_slack_history_answers_429_ratelimited_with_retry_after(fresh: Any) -> None:
    sb, api = fresh(rate_limits="fast")
    channel = next(
        c["id"]
        for c in api["slack"].get("/conversations.list").json()["channels"]
        if c["is_member"]
    )
    responses = [
        api["slack"].get("/conversations.history", params={"channel": channel, "limit": 1})
        for _ in range(15)
    ]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, "a burst above the tier-3 fast limit must be refused"
    assert limited[0].json() == {"ok": False, "error": "ratelimited"}
    assert int(limited[0].headers["Retry-After"]) >= 1
    ok_times = [
        e["t"]
        for e in sb.requests("slack")
        if e["status"] == 200 and e["path"] == "/conversations.history"
    ]
    assert _max_in_window(ok_times, 1.0) <= LIMITS["fast"]["slack.tier3"].limit


def test_waiting_retry_after_lets_the_next_request_through(fresh: Any) -> None:
    _, api = fresh(rate_limits="fast")
    response = None
    for _ in range(30):
        response = api["asana"].get("/workspaces")
        if response.status_code == 429:
            break
    assert response is not None and response.status_code == 429
    assert "too many requests" in response.json()["errors"][0]["message"]
    time.sleep(int(response.headers["Retry-After"]))
    assert api["asana"].get("/workspaces").status_code == 200


def test_real_mode_hubspot_search_has_its_own_five_per_second_bucket(fresh: Any) -> None:
    sb, api = fresh(rate_limits="real")
    codes = [
        api["hubspot"].post("/crm/v3/objects/deals/search", json={"limit": 1}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]
    limited = api["hubspot"].post("/crm/v3/objects/deals/search", json={"limit": 1})
    if limited.status_code == 429:
        body = limited.json()
        assert body["errorType"] == "RATE_LIMIT" and body["policyName"]
    assert api["hubspot"].get("/crm/v3/owners").status_code == 200  # general bucket untouched


def test_real_mode_gong_allows_three_per_second(fresh: Any) -> None:
    sb, api = fresh(rate_limits="real")
    codes = [api["gong"].get("/v2/users").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:].count(429) >= 1
    ok_times = [e["t"] for e in sb.requests("gong") if e["status"] == 200]
    assert _max_in_window(ok_times, 1.0) <= 3


def test_off_mode_never_limits(fresh: Any) -> None:
    _, api = fresh(rate_limits="off")
    assert all(api["gong"].get("/v2/users").status_code == 200 for _ in range(20))


def test_the_request_log_and_limits_are_served_by_the_control_api(fresh: Any) -> None:
    sb, api = fresh(rate_limits="fast")
    api["slack"].get("/auth.test")
    log = api["control"].get("/requests", params={"api": "slack"}).json()["requests"]
    assert [(e["path"], e["status"]) for e in log] == [("/auth.test", 200)]
    limits = api["control"].get("/limits").json()
    assert limits["mode"] == "fast" and limits["limits"]["slack.tier3"]["limit"] == 10
    api["control"].delete("/requests")
    assert sb.requests() == []


@pytest.mark.parametrize(
    ("name", "method", "path", "published"),
    [
        ("slack", "GET", "/users.list", 20),
        ("slack", "GET", "/conversations.list", 20),
        ("asana", "GET", "/workspaces", 150),
        ("hubspot", "GET", "/crm/v3/owners", 100),
        ("gong", "GET", "/v2/users", 3),
    ],
)
def test_real_mode_accepts_exactly_the_published_burst(
    fresh: Any, name: str, method: str, path: str, published: int
) -> None:
    _, api = fresh(rate_limits="real")
    codes = [api[name].request(method, path).status_code for _ in range(published + 1)]
    assert codes == [200] * published + [429]
