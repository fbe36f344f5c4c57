"""HubSpot batch endpoints: batch read of objects (207 on misses) and association reads."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sophia_cli.sandbox.api.hubspot_records import (
    ASSOC_TYPE,
    OBJECT_TYPES,
    HubspotError,
    object_type,
    render,
)
from sophia_cli.sandbox.clock import iso_ms
from sophia_cli.sandbox.dataset import Record
from sophia_cli.sandbox.state import Sandbox


def batch_read(sb: Sandbox, request: Request, body: Record) -> Response:
    """POST /crm/v3/objects/{type}/batch/read; 207 when ids are missing."""
    kind = object_type(request)
    archived = request.query_params.get("archived", "false").lower() == "true"
    ids = [str(i.get("id")) for i in body.get("inputs") or []]
    if len(ids) > 100:
        raise HubspotError(400, "VALIDATION_ERROR", "at most 100 inputs are allowed")
    found = [sb.data.hubspot.objects[kind].get(i) for i in ids]
    results = [
        render(r, kind, [str(p) for p in body.get("properties") or []])
        for r in found
        if r is not None and r["archived"] == archived
    ]
    missing = [i for i, r in zip(ids, found, strict=True) if r is None or r["archived"] != archived]
    now = iso_ms(sb.clock.now())
    out: Record = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    if missing:
        out.update(
            numErrors=1,
            errors=[
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Could not get some objects, they may be deleted or not exist.",
                    "context": {"ids": missing},
                    "errors": [],
                    "links": {},
                }
            ],
        )
        return JSONResponse(out, status_code=207)
    return JSONResponse(out)


def associations_read(sb: Sandbox, request: Request, body: Record) -> Response:
    """v3 and v4 `associations/{from}/{to}/batch/read` (companies of deals or contacts)."""
    source = OBJECT_TYPES.get(request.path_params["from_type"])
    target = OBJECT_TYPES.get(request.path_params["to_type"])
    if source not in ASSOC_TYPE or target != "companies":
        raise HubspotError(
            400, "VALIDATION_ERROR", "Only deals or contacts to companies are served"
        )
    label, type_id = ASSOC_TYPE[source]
    v4 = request.url.path.split("/crm/", 1)[1].startswith("v4")
    results = []
    for item in body.get("inputs") or []:
        record = sb.data.hubspot.objects[source].get(str(item.get("id")))
        if record is None or not record.get("_company"):
            continue
        company = record["_company"]
        to = (
            {
                "toObjectId": int(company),
                "associationTypes": [
                    {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": "Primary"}
                ],
            }
            if v4
            else {"id": company, "type": label}
        )
        results.append({"from": {"id": record["id"]}, "to": [to]})
    now = iso_ms(sb.clock.now())
    return JSONResponse(
        {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    )
