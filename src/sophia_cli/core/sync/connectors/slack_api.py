"""Slack Web API transport: bot-token auth, `ok:false` error codes, cursor paging, tiers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from sophia_cli.core.sync.errors import (
    SourceAuthError,
    SourceScopeError,
    TerminalApiError,
    TransientApiError,
)
from sophia_cli.core.sync.http import ApiClient, decode, shape_error, transient_status

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
# Tiers from Slack's docs (per method): users.list and conversations.list Tier 2,
# conversations.history and conversations.replies Tier 3.
BUCKETS = {"tier2": (20, 60.0), "tier3": (50, 60.0), "special": (100, 60.0)}
METHOD_BUCKET = {
    "users.list": "tier2",
    "conversations.list": "tier2",
    "conversations.history": "tier3",
    "conversations.replies": "tier3",
    "auth.test": "special",
}


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
    client: ApiClient, method: str, key: str, params: dict[str, Any]
) -> AsyncIterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Pages of `key` items, following `response_metadata.next_cursor` until it is empty."""
    cursor = ""
    while True:
        body = await call(client, method, {**params, "limit": PAGE_LIMIT, "cursor": cursor or None})
        items = body.get(key)
        if not isinstance(items, list):
            raise shape_error("Slack", method, f"no `{key}` list", body)
        yield items, body
        cursor = str((body.get("response_metadata") or {}).get("next_cursor") or "")
        if not cursor:
            return
