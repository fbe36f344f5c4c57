"""Slack Web API transport: bot-token auth, `ok:false` error codes, cursor paging, tiers."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from sophia_cli.core.sync.errors import (
    SourceAuthError,
    SourceScopeError,
    TerminalApiError,
    TransientApiError,
)
from sophia_cli.core.sync.http import (
    ApiClient,
    decode,
    retry_after_s,
    shape_error,
    transient_status,
)
from sophia_cli.core.sync.limiter import SlidingWindowLimiter
from sophia_cli.core.sync.paging import SlackCursorPaginator

TOKEN = "SLACK_BOT_TOKEN"
PAGE_LIMIT = 200
_AUTH_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
}
_TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# Tiers from Slack's docs (per method, per minute): users.list and conversations.list Tier 2,
# conversations.history and conversations.replies Tier 3 for internal apps.
TIER_PER_MINUTE = {"tier2": 20, "tier3": 50, "special": 100}
METHOD_BUCKET = {
    "users.list": "tier2",
    "conversations.list": "tier2",
    "conversations.history": "tier3",
    "conversations.replies": "tier3",
    "auth.test": "special",
}
MESSAGE_METHODS = ("conversations.history", "conversations.replies")


@dataclass(frozen=True)
class Regime:
    """How fast Slack lets this app read messages: requests per minute and messages per page."""

    name: str
    per_minute: int
    page_limit: int


# Since 2025, an app distributed commercially outside the Slack Marketplace gets 1 request a
# minute and 15 messages a request on history/replies; the company's own internal app keeps
# Tier 3 (docs/api-facts/slack-web-api.md).
REGIMES = {"internal": Regime("internal", 50, PAGE_LIMIT), "limited": Regime("limited", 1, 15)}


class RateRegime:
    """The regime in force for one run, switched to `limited` when Slack's 429s show it.

    Under the internal regime a 429 on a message method only comes after ~50 requests in a
    minute. A 429 after fewer than half of that, asking to wait most of a minute, is the
    limited regime: we slow down to it instead of retrying into a wall.
    """

    def __init__(self, name: str, minute_s: float) -> None:
        self.regime = REGIMES[name]
        self.minute_s = minute_s
        self.limiters: dict[str, SlidingWindowLimiter] = {}
        self.switched = False
        self._sent: dict[str, deque[float]] = {m: deque() for m in MESSAGE_METHODS}

    def published_limits(self) -> dict[str, SlidingWindowLimiter]:
        """One sliding-window limiter per method, on Slack's (possibly compressed) minute."""
        for method, tier in METHOD_BUCKET.items():
            per_minute = self.regime.per_minute if tier == "tier3" else TIER_PER_MINUTE[tier]
            self.limiters[method] = SlidingWindowLimiter(per_minute, self.minute_s)
        return self.limiters

    @property
    def page_limit(self) -> int:
        return self.regime.page_limit

    def observe(self, method: str, response: httpx.Response) -> None:
        """Count an answer of a message method; a telling 429 switches the regime."""
        if method not in self._sent:
            return
        now = time.monotonic()
        sent = self._sent[method]
        while sent and sent[0] <= now - self.minute_s:
            sent.popleft()
        if response.status_code != 429:
            sent.append(now)
            return
        wait = retry_after_s(response, 0.0) or 0.0
        few = len(sent) < REGIMES["internal"].per_minute // 2
        if self.regime.name == "internal" and few and wait >= 30:
            self.switch("limited")

    def switch(self, name: str) -> None:
        self.regime = REGIMES[name]
        self.switched = True
        for method in MESSAGE_METHODS:
            limiter = self.limiters.get(method)
            if limiter is not None:
                limiter.limit = self.regime.per_minute

    def note(self) -> str | None:
        """What to tell the operator when Slack's answers changed the regime."""
        if not self.switched:
            return None
        return (
            "Slack limits this app to 1 request/min and 15 messages per page (a non-Marketplace "
            "app): synced at that pace; set SLACK_APP_REGIME=limited, or install sophia as the "
            "company's internal app for 50/min"
        )


class SlackClient:
    """The Slack API client of one run, with the rate regime its streams page by."""

    def __init__(self, api: ApiClient, regime: RateRegime) -> None:
        self.api = api
        self.regime = regime

    @property
    def retries(self) -> int:
        return self.api.retries

    @property
    def requests(self) -> int:
        return self.api.requests

    async def aclose(self) -> None:
        await self.api.aclose()


class ChannelUnreadable(TerminalApiError):
    """not_in_channel / channel_not_found: reported, not fatal."""


def classify(response: httpx.Response) -> None:
    transient_status(response, "Slack")
    if response.status_code != 200:
        raise TerminalApiError(f"Slack {response.request.url.path} answered {response.status_code}")
    body = decode(response, "Slack")
    if not isinstance(body, dict) or "ok" not in body:
        raise shape_error("Slack", response.request.url.path, "no `ok` field", body)
    if body["ok"]:
        return
    error = str(body.get("error", "unknown_error"))
    if error in _AUTH_ERRORS:
        raise SourceAuthError(
            f"Slack rejected {TOKEN} ({error})",
            hint=f"Set {TOKEN} to a valid bot token (xoxb-…) of the installed Slack app.",
        )
    if error == "missing_scope":
        raise SourceScopeError(
            f"Slack token lacks scope {body.get('needed', '?')} (has {body.get('provided', '?')})",
            hint=f"Add the scope to the Slack app, reinstall it, and update {TOKEN}.",
        )
    if error in _TRANSIENT_ERRORS:
        raise TransientApiError(f"Slack {error}", retry_after_s=None)
    if error in ("not_in_channel", "channel_not_found"):
        raise ChannelUnreadable(f"Slack {error}")
    raise TerminalApiError(f"Slack {response.request.url.path} failed: {error}")


async def call(client: ApiClient, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """One Web API method call (GET with query parameters)."""
    body = await client.json("GET", f"/{method}", buckets=(method,), params=params)
    assert isinstance(body, dict)
    return body


async def paged(
    client: ApiClient,
    method: str,
    key: str,
    params: dict[str, Any],
    *,
    limit: int = PAGE_LIMIT,
) -> AsyncIterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Pages of `key` items, following `response_metadata.next_cursor` until it is empty."""

    async def send(cursor: str | None) -> dict[str, Any]:
        return await call(client, method, {**params, "limit": limit, "cursor": cursor})

    async for items, body in SlackCursorPaginator("Slack", key).pages(send, method):
        yield items, body
