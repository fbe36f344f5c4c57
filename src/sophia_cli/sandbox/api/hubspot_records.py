"""HubSpot CRM records as the API shows them: object types, property sets, errors."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from sophia_cli.sandbox.dataset import Record

OBJECT_TYPES = {
    "deals": "deals",
    "0-3": "deals",
    "companies": "companies",
    "0-2": "companies",
    "contacts": "contacts",
    "0-1": "contacts",
}
DEFAULT_PROPS = {
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
}
ALWAYS = {
    "deals": ("hs_object_id", "createdate", "hs_lastmodifieddate"),
    "companies": ("hs_object_id", "createdate", "hs_lastmodifieddate"),
    "contacts": ("hs_object_id", "createdate", "lastmodifieddate"),
}
ASSOC_TYPE = {"deals": ("deal_to_company", 5), "contacts": ("contact_to_company", 1)}


class HubspotError(Exception):
    def __init__(self, status: int, category: str, message: str) -> None:
        super().__init__(message)
        self.status, self.category, self.message = status, category, message


def error_response(status: int, category: str, message: str, **extra: Any) -> JSONResponse:
    """HubSpot's error envelope with a fresh correlationId."""
    return JSONResponse(
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        },
        status_code=status,
    )


def object_type(request: Request) -> str:
    """The object type of the path (`deals` or `0-3`, …), or 400."""
    kind = OBJECT_TYPES.get(request.path_params["object_type"])
    if kind is None:
        raise HubspotError(
            400,
            "VALIDATION_ERROR",
            f"Unable to infer object type from: {request.path_params['object_type']}",
        )
    return kind


def csv(raw: str | None) -> list[str]:
    """A comma-separated query parameter as a list."""
    return [p.strip() for p in (raw or "").split(",") if p.strip()]


def render(
    record: Record, kind: str, props: list[str] | None, associations: list[str] | None = None
) -> Record:
    """A record as the API returns it: requested properties (missing ones null)."""
    wanted = list(props) if props else list(DEFAULT_PROPS[kind])
    wanted += [p for p in ALWAYS[kind] if p not in wanted]
    out: Record = {
        "id": record["id"],
        "properties": {p: record["properties"].get(p) for p in wanted},
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": record["archived"],
    }
    if record.get("archivedAt"):
        out["archivedAt"] = record["archivedAt"]
    company = record.get("_company")
    if associations and "companies" in associations and company and kind in ASSOC_TYPE:
        out["associations"] = {
            "companies": {"results": [{"id": company, "type": ASSOC_TYPE[kind][0]}]}
        }
    return out
