"""HubSpot part of the dataset: owners, companies, contacts, deals and the deal pipelines."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta

from sophia_cli.sandbox import names
from sophia_cli.sandbox.clock import days_ago, iso_ms
from sophia_cli.sandbox.dataset import HubspotData, Person, Record, scaled

EPOCH = "1970-01-01T00:00:00Z"
# pipeline id, label, stages as (id, label, probability, closed)
PIPELINES: tuple[tuple[str, str, tuple[tuple[str, str, float, bool], ...]], ...] = (
    (
        "default",
        "Sales Pipeline",
        (
            ("appointmentscheduled", "Appointment Scheduled", 0.2, False),
            ("qualifiedtobuy", "Qualified To Buy", 0.4, False),
            ("presentationscheduled", "Presentation Scheduled", 0.6, False),
            ("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, False),
            ("contractsent", "Contract Sent", 0.9, False),
            ("closedwon", "Closed Won", 1.0, True),
            ("closedlost", "Closed Lost", 0.0, True),
        ),
    ),
    (
        "enterprise",
        "Enterprise",
        (
            ("110382973", "Discovery", 0.1, False),
            ("110382974", "Technical Evaluation", 0.3, False),
            ("110382975", "Security Review", 0.5, False),
            ("110382976", "Negotiation", 0.8, False),
            ("110382977", "Closed Won", 1.0, True),
            ("110382978", "Closed Lost", 0.0, True),
        ),
    ),
)
ID_BASE = {"companies": 10_000_000_000, "contacts": 50_000_000_000, "deals": 18_000_000_000}
LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)


def stage_info(stage_id: str) -> tuple[str, float, bool]:
    """(pipeline id, probability, closed) of a deal stage."""
    for pipeline_id, _, stages in PIPELINES:
        for sid, _, probability, closed in stages:
            if sid == stage_id:
                return pipeline_id, probability, closed
    raise KeyError(stage_id)


def stage_flags(stage_id: str) -> dict[str, str]:
    """The calculated properties HubSpot keeps in step with the stage."""
    _, probability, closed = stage_info(stage_id)
    return {
        "hs_is_closed": str(closed).lower(),
        "hs_is_closed_won": str(closed and probability == 1.0).lower(),
        "hs_deal_stage_probability": str(probability),
    }


def new_record(
    object_id: str,
    props: Mapping[str, str | None],
    created: datetime,
    updated: datetime,
    modified_key: str,
) -> Record:
    """A CRM record with every property as a string and the id mirrored in hs_object_id."""
    props = {
        **props,
        "hs_object_id": object_id,
        "createdate": iso_ms(created),
        modified_key: iso_ms(updated),
    }
    return {
        "id": object_id,
        "properties": props,
        "createdAt": iso_ms(created),
        "updatedAt": iso_ms(updated),
        "archived": False,
    }


def archive(record: Record, when: datetime) -> None:
    """Mark a record archived at `when` (archived records leave default listings and search)."""
    record["archived"] = True
    record["archivedAt"] = iso_ms(when)


def sales_people(staff: list[Person]) -> list[Person]:
    """The staff who own deals in HubSpot and record calls in Gong."""
    return [p for p in staff if p.title in ("Account Executive", "Sales Manager")]


def build_owners(anchor: datetime, staff: list[Person]) -> dict[str, Record]:
    """One owner per sales person; the one who left is archived."""
    owners = {}
    teams = ("Sales - North America", "Sales - EMEA", "Enterprise Sales")
    for person in sales_people(staff):
        oid = str(61234500 + person.index)
        created = days_ago(anchor, 900 - person.index * 7)
        owners[oid] = {
            "id": oid,
            "email": person.email,
            "firstName": person.first,
            "lastName": person.last,
            "userId": 9120300 + person.index,
            "userIdIncludingInactive": 9120300 + person.index,
            "type": "PERSON",
            "createdAt": iso_ms(created),
            "updatedAt": iso_ms(days_ago(anchor, 30 + person.index)),
            "archived": not person.active,
            "teams": [
                {
                    "id": str(178500 + person.index % 3),
                    "name": teams[person.index % 3],
                    "primary": True,
                }
            ],
        }
        if not person.active:
            owners[oid]["archivedAt"] = iso_ms(days_ago(anchor, 20))
    return owners


def build(rng: random.Random, anchor: datetime, scale: float, staff: list[Person]) -> HubspotData:
    """Owners, companies, contacts and deals over the 730 days before the anchor."""
    owners = build_owners(anchor, staff)
    owner_ids = sorted(owners)
    companies = build_companies(rng, anchor, scaled(600, scale, 20), owner_ids)
    contacts = build_contacts(rng, anchor, scaled(3000, scale, 50), companies)
    deals = build_deals(rng, anchor, scaled(3000, scale, 60), companies, owner_ids)
    objects = {"companies": companies, "contacts": contacts, "deals": deals}
    next_id = {kind: ID_BASE[kind] + len(records) * 13 + 13 for kind, records in objects.items()}
    return HubspotData(owners, objects, pipelines(anchor), next_id)


def build_companies(
    rng: random.Random, anchor: datetime, count: int, owner_ids: list[str]
) -> dict[str, Record]:
    """Companies across industries, ~2% archived."""
    companies = {}
    for i, name in enumerate(names.company_names(rng, count)):
        cid = str(ID_BASE["companies"] + i * 13)
        created = days_ago(anchor, rng.uniform(30, 730))
        updated = created + timedelta(days=rng.uniform(0, (anchor - created).days))
        employees = int(rng.lognormvariate(5.0, 1.4)) + 5
        props = {
            "name": name,
            "domain": names.domain_for(name),
            "industry": rng.choice(names.INDUSTRIES),
            "numberofemployees": str(employees),
            "annualrevenue": str(employees * rng.randrange(80_000, 250_000, 1000)),
            "hubspot_owner_id": rng.choice(owner_ids),
            "city": rng.choice(
                ("Boston", "Austin", "London", "Berlin", "Toronto", "Paris", "Sydney")
            ),
        }
        record = new_record(cid, props, created, updated, "hs_lastmodifieddate")
        if rng.random() < 0.02:
            archive(record, updated + timedelta(hours=1))
        companies[cid] = record
    return companies


def build_contacts(
    rng: random.Random, anchor: datetime, count: int, companies: dict[str, Record]
) -> dict[str, Record]:
    """Contacts at those companies, ~2% archived."""
    contacts: dict[str, Record] = {}
    company_ids = sorted(companies)
    for i in range(count):
        company = companies[rng.choice(company_ids)]
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        created = days_ago(anchor, rng.uniform(1, 720))
        updated = created + timedelta(days=rng.uniform(0, max(0.01, (anchor - created).days - 0.5)))
        props = {
            "email": names.email_for(first, last, company["properties"]["domain"]).replace(
                "@", f"{i % 97 or ''}@", 1
            ),
            "firstname": first,
            "lastname": last,
            "jobtitle": rng.choice(
                ("VP Sales", "Head of Data", "CFO", "Operations Manager", "CTO", "Analyst")
            ),
            "associatedcompanyid": company["id"],
            "hubspot_owner_id": company["properties"]["hubspot_owner_id"],
            "lifecyclestage": rng.choice(LIFECYCLE),
        }
        cid = str(ID_BASE["contacts"] + i * 13)
        record = new_record(cid, props, created, updated, "lastmodifieddate")
        record["_company"] = company["id"]
        if rng.random() < 0.02:
            archive(record, updated + timedelta(hours=2))
        contacts[cid] = record
    return contacts


def build_deals(
    rng: random.Random,
    anchor: datetime,
    count: int,
    companies: dict[str, Record],
    owner_ids: list[str],
) -> dict[str, Record]:
    """Deals over two years: old ones mostly closed (won or lost), recent ones open."""
    deals: dict[str, Record] = {}
    company_ids = sorted(companies)
    for i in range(count):
        company = companies[rng.choice(company_ids)]
        enterprise = rng.random() < 0.2
        pipeline_id, _, stages = PIPELINES[1 if enterprise else 0]
        created = days_ago(anchor, rng.uniform(1, 730))
        age = (anchor - created).days
        if rng.random() < min(0.93, age / 100):
            won = rng.random() < (0.3 if enterprise else 0.42)
            stage = stages[-2][0] if won else stages[-1][0]
            close = min(created + timedelta(days=rng.uniform(7, 150)), anchor - timedelta(hours=3))
        else:
            stage = rng.choice([s[0] for s in stages if not s[3]])
            close = anchor + timedelta(days=rng.uniform(5, 120))
        amount = rng.lognormvariate(11.8 if enterprise else 9.6, 0.55)
        updated = min(
            max(created, close if close < anchor else created)
            + timedelta(hours=rng.uniform(0, 48)),
            anchor - timedelta(minutes=5),
        )
        owner = (
            company["properties"]["hubspot_owner_id"]
            if rng.random() < 0.8
            else rng.choice(owner_ids)
        )
        props = {
            "dealname": f"{company['properties']['name']} - {rng.choice(names.DEAL_PRODUCTS)}",
            "amount": str(int(round(amount, -2))),
            "pipeline": pipeline_id,
            "dealstage": stage,
            "closedate": iso_ms(close.replace(hour=0, minute=0, second=0, microsecond=0)),
            "hubspot_owner_id": owner,
            "dealtype": rng.choice(("newbusiness", "existingbusiness")),
            **stage_flags(stage),
        }
        did = str(ID_BASE["deals"] + i * 13)
        record = new_record(did, props, created, updated, "hs_lastmodifieddate")
        record["_company"] = company["id"]
        if rng.random() < 0.015:
            archive(record, updated + timedelta(hours=5))
        deals[did] = record
    return deals


def pipelines(anchor: datetime) -> list[Record]:
    """The deal pipelines as `GET /crm/v3/pipelines/deals` returns them."""
    result = []
    for order, (pid, label, stages) in enumerate(PIPELINES):
        created = EPOCH if pid == "default" else iso_ms(days_ago(anchor, 800))
        result.append(
            {
                "id": pid,
                "label": label,
                "displayOrder": order,
                "archived": False,
                "createdAt": created,
                "updatedAt": iso_ms(days_ago(anchor, 200)),
                "stages": [
                    {
                        "id": sid,
                        "label": slabel,
                        "displayOrder": n,
                        "archived": False,
                        "metadata": {"isClosed": str(closed).lower(), "probability": str(prob)},
                        "createdAt": created,
                        "updatedAt": iso_ms(days_ago(anchor, 200)),
                    }
                    for n, (sid, slabel, prob, closed) in enumerate(stages)
                ],
            }
        )
    return result


def add_bulk_import(rng: random.Random, data: HubspotData, anchor: datetime, size: int) -> None:
    """A list import: `size` contacts that all share one `lastmodifieddate` (the cap test)."""
    stamp = days_ago(anchor, 3).replace(hour=2, minute=0, second=0, microsecond=0)
    company_ids = sorted(cid for cid, c in data.objects["companies"].items() if not c["archived"])
    contacts = data.objects["contacts"]
    for _ in range(size):
        cid = str(data.next_id["contacts"])
        data.next_id["contacts"] += 13
        company = data.objects["companies"][rng.choice(company_ids)]
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        props = {
            "email": f"{first}.{last}.{cid[-5:]}@{company['properties']['domain']}".lower(),
            "firstname": first,
            "lastname": last,
            "associatedcompanyid": company["id"],
            "hubspot_owner_id": company["properties"]["hubspot_owner_id"],
            "lifecyclestage": "lead",
        }
        record = new_record(cid, props, stamp, stamp, "lastmodifieddate")
        record["_company"] = company["id"]
        contacts[cid] = record
