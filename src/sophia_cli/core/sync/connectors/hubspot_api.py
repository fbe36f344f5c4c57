"""HubSpot CRM v3 transport: bearer auth, the error envelope, list paging, associations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from sophia_cli.core.sync.errors import (
    SourceAuthError,
    SourceScopeError,
    TerminalApiError,
    excerpt,
)
from sophia_cli.core.sync.http import ApiClient, decode, shape_error, transient_status
from sophia_cli.core.sync.paging import AfterPaginator

TOKEN = "HUBSPOT_API_KEY"
LIST_LIMIT = 100
SCOPES = (
    "crm.objects.owners.read, crm.objects.companies.read, crm.objects.contacts.read, "
    "crm.objects.deals.read"
)


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{body.get('category', '')} {body.get('message', '')}".strip()
    except Exception:  # not the JSON envelope: quote the body instead
        return excerpt(response.text)


def classify(response: httpx.Response) -> None:
    transient_status(response, "HubSpot")
    status, path = response.status_code, response.request.url.path
    if status in (200, 207):
        return
    message = _message(response)
    if status == 401:
        raise SourceAuthError(
            f"HubSpot rejected {TOKEN} (401 {message})",
            hint=f"Set {TOKEN} to a private-app access token (pat-…) with scopes {SCOPES}.",
        )
    if status == 403:
        raise SourceScopeError(
            f"HubSpot refused {path} (403 {message})",
            hint=f"Give the private app behind {TOKEN} the scopes {SCOPES}.",
        )
    raise TerminalApiError(f"HubSpot {path} answered {status}: {message}")


async def listed(
    client: ApiClient, path: str, params: dict[str, Any]
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of a list endpoint, following `paging.next.after` until `paging` is absent."""

    async def send(after: str | None) -> Any:
        query = {**params, "limit": LIST_LIMIT, "after": after}
        return decode(await client.request("GET", path, params=query), "HubSpot")

    async for items, _ in AfterPaginator("HubSpot", "results").pages(send, path):
        yield items


async def deal_companies(client: ApiClient, ids: list[str]) -> dict[str, str]:
    """The company of each deal (v4 associations batch read; the lowest company id wins)."""
    found: dict[str, str] = {}
    path = "/crm/v4/associations/deals/companies/batch/read"
    for start in range(0, len(ids), 100):
        inputs = [{"id": deal} for deal in ids[start : start + 100]]
        body = decode(await client.request("POST", path, json={"inputs": inputs}), "HubSpot")
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise shape_error("HubSpot", path, "no `results` list", body)
        for result in body["results"]:
            targets = sorted(str(t["toObjectId"]) for t in result.get("to") or [])
            if targets:
                found[str(result["from"]["id"])] = min(targets, key=int)
    return found
