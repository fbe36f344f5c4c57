"""Fake HubSpot CRM v3: objects list/get/search, owners, pipelines, and the routes of all."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sophia_cli.sandbox.adversity import churn, searchable
from sophia_cli.sandbox.api.hubspot_batch import associations_read, batch_read
from sophia_cli.sandbox.api.hubspot_records import (
    OBJECT_TYPES,
    HubspotError,
    csv,
    error_response,
    object_type,
    render,
)
from sophia_cli.sandbox.dataset import Record
from sophia_cli.sandbox.hubspot_search import SearchError, search
from sophia_cli.sandbox.state import Sandbox


def fault_response(kind: str, retry_after: int) -> Response:
    """What HubSpot answers for a scripted fault of `kind`."""
    if kind == "429":
        return JSONResponse(
            {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()),
                "policyName": "SECONDLY",
                "requestId": str(uuid.uuid4()),
            },
            status_code=429,
        )
    if kind in ("500", "502", "503"):
        return error_response(int(kind), "INTERNAL_ERROR", "Internal error")
    if kind == "401":
        return error_response(
            401, "INVALID_AUTHENTICATION", "Authentication credentials not found."
        )
    if kind == "expired_offset":
        return error_response(400, "VALIDATION_ERROR", "Invalid paging cursor")
    return JSONResponse({"results": {"unexpected": True}, "paging": "none"})


def _limit(request: Request, default: int, maximum: int) -> int:
    """The `limit` query parameter within 1..maximum, else 400."""
    raw = request.query_params.get("limit")
    try:
        limit = default if raw is None else int(raw)
    except ValueError as exc:
        raise HubspotError(400, "VALIDATION_ERROR", f"limit must be an integer: {raw}") from exc
    if not 1 <= limit <= maximum:
        raise HubspotError(400, "VALIDATION_ERROR", f"limit must be between 1 and {maximum}")
    return limit


def _page_by_id(request: Request, records: list[Record], limit: int) -> tuple[list[Record], Any]:
    """Ascending-id paging with `after` = the next id, and `paging` absent at the end."""
    raw_after = request.query_params.get("after")
    try:
        after = int(raw_after) if raw_after else None
    except ValueError as exc:
        raise HubspotError(400, "VALIDATION_ERROR", f"Invalid after: {raw_after}") from exc
    ordered = sorted(records, key=lambda r: int(r["id"]))
    if after is not None:
        ordered = [r for r in ordered if int(r["id"]) >= after]
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    nxt = ordered[limit]["id"]
    return page, {"next": {"after": nxt, "link": f"{request.url.path}?limit={limit}&after={nxt}"}}


def list_objects(sb: Sandbox, request: Request) -> Response:
    """GET /crm/v3/objects/{type}."""
    kind = object_type(request)
    archived = request.query_params.get("archived", "false").lower() == "true"
    records = [r for r in sb.data.hubspot.objects[kind].values() if r["archived"] == archived]
    page, paging = _page_by_id(request, records, _limit(request, 10, 100))
    props, assocs = (
        csv(request.query_params.get("properties")),
        csv(request.query_params.get("associations")),
    )
    body: Record = {"results": [render(r, kind, props, assocs) for r in page]}
    if paging:
        body["paging"] = paging
    return JSONResponse(body)


def get_object(sb: Sandbox, request: Request) -> Response:
    """GET /crm/v3/objects/{type}/{id}."""
    kind = object_type(request)
    record = sb.data.hubspot.objects[kind].get(request.path_params["object_id"])
    archived = request.query_params.get("archived", "false").lower() == "true"
    if record is None or record["archived"] != archived:
        raise HubspotError(404, "OBJECT_NOT_FOUND", "resource not found")
    return JSONResponse(
        render(
            record,
            kind,
            csv(request.query_params.get("properties")),
            csv(request.query_params.get("associations")),
        )
    )


def search_objects(sb: Sandbox, request: Request, body: Record) -> Response:
    """POST /crm/v3/objects/{type}/search over live records."""
    kind = object_type(request)
    live = [
        r for r in sb.data.hubspot.objects[kind].values() if not r["archived"] and searchable(r)
    ]
    try:
        total, page, next_after = search(live, body)
    except SearchError as exc:
        raise HubspotError(400, "VALIDATION_ERROR", str(exc)) from exc
    props = [str(p) for p in body.get("properties") or []]
    out: Record = {"total": total, "results": [render(r, kind, props) for r in page]}
    sb.search_pages += 1
    sb.search_offsets.append(int(body.get("after") or 0))
    if sb.adversities.churn_per_page:  # the page is out; users keep editing meanwhile
        churn(sb.data, sb.adversities, kind, sb.clock.now(), sb.search_pages)
    if next_after is not None:
        out["paging"] = {"next": {"after": str(next_after)}}
    return JSONResponse(out)


def list_owners(sb: Sandbox, request: Request) -> Response:
    """GET /crm/v3/owners."""
    archived = request.query_params.get("archived", "false").lower() == "true"
    email = request.query_params.get("email")
    owners = [
        o
        for o in sb.data.hubspot.owners.values()
        if o["archived"] == archived and (email is None or o["email"] == email)
    ]
    page, paging = _page_by_id(request, owners, _limit(request, 100, 500))
    body: Record = {"results": page}
    if paging:
        body["paging"] = paging
    return JSONResponse(body)


def pipelines(sb: Sandbox, request: Request) -> Response:
    """GET /crm/v3/pipelines/{type} (deals only)."""
    if OBJECT_TYPES.get(request.path_params["object_type"]) != "deals":
        return JSONResponse({"results": []})
    return JSONResponse({"results": sb.data.hubspot.pipelines})


GetHandler = Callable[[Sandbox, Request], Response]
PostHandler = Callable[[Sandbox, Request, Record], Response]
GETS: tuple[tuple[str, GetHandler], ...] = (
    ("/crm/v3/objects/{object_type}", list_objects),
    ("/crm/v3/objects/{object_type}/{object_id}", get_object),
    ("/crm/v3/owners", list_owners),
    ("/crm/v3/owners/", list_owners),
    ("/crm/v3/pipelines/{object_type}", pipelines),
)
POSTS: tuple[tuple[str, PostHandler], ...] = (
    ("/crm/v3/objects/{object_type}/search", search_objects),
    ("/crm/v3/objects/{object_type}/batch/read", batch_read),
    ("/crm/v3/associations/{from_type}/{to_type}/batch/read", associations_read),
    ("/crm/v4/associations/{from_type}/{to_type}/batch/read", associations_read),
)


def routes(sb: Sandbox) -> list[Route]:
    """Routes behind the Bearer check, every failure in HubSpot's error envelope."""

    def guard(request: Request) -> Response | None:
        if request.headers.get("authorization", "") != f"Bearer {sb.tokens.hubspot}":
            return error_response(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports "
                "OAuth 2.0 authentication and private app access tokens.",
            )
        return None

    def get(handler: GetHandler) -> Any:
        async def serve(request: Request) -> Response:
            refused = guard(request)
            if refused is not None:
                return refused
            try:
                with sb.lock:
                    return handler(sb, request)
            except HubspotError as exc:
                return error_response(exc.status, exc.category, exc.message)

        return serve

    def post(handler: PostHandler) -> Any:
        async def serve(request: Request) -> Response:
            refused = guard(request)
            if refused is not None:
                return refused
            try:
                body = json.loads(await request.body() or b"{}")
                if not isinstance(body, dict):
                    raise HubspotError(400, "VALIDATION_ERROR", "The body must be a JSON object")
                with sb.lock:
                    return handler(sb, request, body)
            except json.JSONDecodeError:
                return error_response(400, "VALIDATION_ERROR", "Invalid input JSON")
            except HubspotError as exc:
                return error_response(exc.status, exc.category, exc.message)

        return serve

    return [
        *(Route(p, post(h), methods=["POST"]) for p, h in POSTS),
        *(Route(p, get(h), methods=["GET"]) for p, h in GETS),
    ]
