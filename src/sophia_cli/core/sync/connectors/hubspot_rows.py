"""HubSpot records as warehouse rows: every property value arrives as a string."""

from __future__ import annotations

from typing import Any

from sophia_cli.core.sync.streams import Row, Table
from sophia_cli.core.sync.values import parse_bool, parse_decimal, parse_int, parse_time

OWNERS = Table(
    "hubspot.owners",
    ("id",),
    ("id", "email", "first_name", "last_name", "archived", "updated_at", "archived_at"),
)
COMPANIES = Table(
    "hubspot.companies",
    ("id",),
    (
        "id",
        "name",
        "domain",
        "industry",
        "number_of_employees",
        "annual_revenue",
        "owner_id",
        "created_at",
        "updated_at",
        "archived",
        "archived_at",
        "merged_object_ids",
    ),
)
CONTACTS = Table(
    "hubspot.contacts",
    ("id",),
    (
        "id",
        "email",
        "first_name",
        "last_name",
        "company_id",
        "owner_id",
        "lifecycle_stage",
        "created_at",
        "updated_at",
        "archived",
        "archived_at",
        "merged_object_ids",
    ),
)
DEALS = Table(
    "hubspot.deals",
    ("id",),
    (
        "id",
        "name",
        "amount",
        "pipeline",
        "stage",
        "close_date",
        "is_closed",
        "is_won",
        "owner_id",
        "company_id",
        "created_at",
        "updated_at",
        "archived",
        "archived_at",
        "merged_object_ids",
    ),
)


PIPELINES = Table(
    "hubspot.pipelines",
    ("id",),
    ("id", "label", "display_order", "archived", "created_at", "updated_at"),
)
# Stages are rows of their pipeline: a stage the API stops listing is removed with it.
PIPELINE_STAGES = Table(
    "hubspot.pipeline_stages",
    ("pipeline_id", "id"),
    (
        "id",
        "pipeline_id",
        "label",
        "display_order",
        "probability",
        "is_closed",
        "is_won",
        "archived",
        "created_at",
        "updated_at",
    ),
    scope="pipeline_id",
)


def _base(record: dict[str, Any]) -> Row:
    return {
        "id": str(record["id"]),
        "created_at": parse_time(record.get("createdAt")),
        "updated_at": parse_time(record.get("updatedAt")),
        "archived": bool(record.get("archived")),
        "archived_at": parse_time(record.get("archivedAt")),
        "merged_object_ids": (record.get("properties") or {}).get("hs_merged_object_ids") or None,
    }


def company_row(record: dict[str, Any]) -> Row:
    p = record.get("properties") or {}
    return {
        **_base(record),
        "name": p.get("name"),
        "domain": p.get("domain"),
        "industry": p.get("industry"),
        "number_of_employees": parse_int(p.get("numberofemployees")),
        "annual_revenue": parse_decimal(p.get("annualrevenue")),
        "owner_id": p.get("hubspot_owner_id") or None,
    }


def contact_row(record: dict[str, Any]) -> Row:
    p = record.get("properties") or {}
    return {
        **_base(record),
        "email": p.get("email"),
        "first_name": p.get("firstname"),
        "last_name": p.get("lastname"),
        "company_id": p.get("associatedcompanyid") or None,
        "owner_id": p.get("hubspot_owner_id") or None,
        "lifecycle_stage": p.get("lifecyclestage"),
    }


def deal_row(record: dict[str, Any]) -> Row:
    p = record.get("properties") or {}
    return {
        **_base(record),
        "name": p.get("dealname"),
        "amount": parse_decimal(p.get("amount")),
        "pipeline": p.get("pipeline"),
        "stage": p.get("dealstage"),
        "close_date": parse_time(p.get("closedate")),
        "is_closed": parse_bool(p.get("hs_is_closed")),
        "is_won": parse_bool(p.get("hs_is_closed_won")),
        "owner_id": p.get("hubspot_owner_id") or None,
        "company_id": None,
    }


OBJECTS: dict[str, tuple[Table, str, list[str], Any]] = {
    "companies": (
        COMPANIES,
        "hs_lastmodifieddate",
        [
            "name",
            "domain",
            "industry",
            "numberofemployees",
            "annualrevenue",
            "hubspot_owner_id",
            "createdate",
            "hs_lastmodifieddate",
            "hs_merged_object_ids",
        ],
        company_row,
    ),
    "contacts": (
        CONTACTS,
        "lastmodifieddate",
        [
            "email",
            "firstname",
            "lastname",
            "associatedcompanyid",
            "hubspot_owner_id",
            "lifecyclestage",
            "createdate",
            "lastmodifieddate",
            "hs_merged_object_ids",
        ],
        contact_row,
    ),
    "deals": (
        DEALS,
        "hs_lastmodifieddate",
        [
            "dealname",
            "amount",
            "pipeline",
            "dealstage",
            "closedate",
            "hs_is_closed",
            "hs_is_closed_won",
            "hubspot_owner_id",
            "createdate",
            "hs_lastmodifieddate",
            "hs_merged_object_ids",
        ],
        deal_row,
    ),
}


def listed_company(record: dict[str, Any]) -> str | None:
    results = ((record.get("associations") or {}).get("companies") or {}).get("results") or []
    ids = sorted({str(r["id"]) for r in results}, key=int)
    return ids[0] if ids else None


def owner_row(owner: dict[str, Any]) -> Row:
    return {
        "id": str(owner["id"]),
        "email": owner.get("email"),
        "first_name": owner.get("firstName"),
        "last_name": owner.get("lastName"),
        "archived": bool(owner.get("archived")),
        "updated_at": parse_time(owner.get("updatedAt")),
        "archived_at": parse_time(owner.get("archivedAt")),
    }


def pipeline_row(pipeline: dict[str, Any]) -> Row:
    return {
        "id": str(pipeline["id"]),
        "label": pipeline.get("label"),
        "display_order": parse_int(pipeline.get("displayOrder")),
        "archived": bool(pipeline.get("archived")),
        "created_at": parse_time(pipeline.get("createdAt")),
        "updated_at": parse_time(pipeline.get("updatedAt")),
    }


def stage_rows(pipeline: dict[str, Any]) -> list[Row]:
    """A pipeline's stages; closed/won and probability come from the stage's metadata."""
    rows = []
    for stage in pipeline.get("stages") or []:
        meta = stage.get("metadata") or {}
        probability = parse_decimal(meta.get("probability"))
        closed = parse_bool(meta.get("isClosed"))
        rows.append(
            {
                "id": str(stage["id"]),
                "pipeline_id": str(pipeline["id"]),
                "label": stage.get("label"),
                "display_order": parse_int(stage.get("displayOrder")),
                "probability": probability,
                "is_closed": closed,
                # HubSpot has no won flag: a closed stage at probability 1 is the won one.
                "is_won": None if closed is None else bool(closed and probability == 1),
                "archived": bool(stage.get("archived")),
                "created_at": parse_time(stage.get("createdAt")),
                "updated_at": parse_time(stage.get("updatedAt")),
            }
        )
    return rows
