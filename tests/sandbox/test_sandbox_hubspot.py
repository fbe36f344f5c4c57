"""The HubSpot fake: string properties, after-cursor lists, search semantics and its 10k cap."""

from __future__ import annotations

from typing import Any

import httpx

from sophia_cli.sandbox.api.app import SandboxHandle


def _list_all(client: httpx.Client, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, after = [], None
    for _ in range(1000):
        query = {**params, **({"after": after} if after else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["results"])
        if "paging" not in body:
            return pages
        after = body["paging"]["next"]["after"]
    raise AssertionError("paging never ended")


def test_missing_token_is_401_with_the_error_envelope(sandbox: SandboxHandle) -> None:
    response = httpx.get(sandbox.env["HUBSPOT_API_BASE"] + "/crm/v3/objects/deals")
    body = response.json()
    assert response.status_code == 401
    assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"] and body["message"]


def test_list_pages_cover_every_live_deal_once_with_string_properties(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    pages = _list_all(
        api["hubspot"],
        "/crm/v3/objects/deals",
        limit=100,
        properties="dealname,amount,dealstage,pipeline,hs_is_closed_won,nosuch",
        associations="companies",
    )
    deals = [d for page in pages for d in page]
    expected = {r["id"] for r in sandbox.expected("hubspot.deals") if not r["archived"]}
    assert sorted(d["id"] for d in deals) == sorted(expected)
    assert all(isinstance(v, str) or v is None for d in deals for v in d["properties"].values())
    assert all(d["properties"]["nosuch"] is None for d in deals)
    assert all(
        d["associations"]["companies"]["results"][0]["type"] == "deal_to_company" for d in deals
    )


def test_zero_three_is_the_same_object_type_as_deals(api: dict[str, httpx.Client]) -> None:
    by_name = api["hubspot"].get("/crm/v3/objects/deals", params={"limit": 5}).json()
    by_id = api["hubspot"].get("/crm/v3/objects/0-3", params={"limit": 5}).json()
    assert by_name["results"] == by_id["results"]
    assert by_name["paging"]["next"]["after"] == by_id["paging"]["next"]["after"]


def test_limit_above_100_is_a_validation_error(api: dict[str, httpx.Client]) -> None:
    response = api["hubspot"].get("/crm/v3/objects/contacts", params={"limit": 101})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_archived_true_lists_only_archived_records(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    pages = _list_all(api["hubspot"], "/crm/v3/objects/contacts", limit=100, archived="true")
    archived = [c for page in pages for c in page]
    assert archived and all(c["archived"] and c["archivedAt"] for c in archived)
    assert len(archived) == sandbox.counts()["archived"]["hubspot.contacts"]


def test_search_filters_sorts_and_pages_by_offset(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    live = [r for r in sandbox.expected("hubspot.deals") if not r["archived"]]
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"}]}
        ],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["dealname", "hs_lastmodifieddate"],
        "limit": 200,
    }
    seen, after = [], None
    while True:
        page = (
            api["hubspot"]
            .post(
                "/crm/v3/objects/deals/search", json={**body, **({"after": after} if after else {})}
            )
            .json()
        )
        assert page["total"] == len(live)
        seen += page["results"]
        if "paging" not in page:
            break
        after = page["paging"]["next"]["after"]
        assert after.isdigit()
    stamps = [(d["properties"]["hs_lastmodifieddate"], int(d["id"])) for d in seen]
    assert stamps == sorted(stamps)
    assert sorted(d["id"] for d in seen) == sorted(r["id"] for r in live)
    assert "associations" not in seen[0]


def test_search_filter_groups_are_ored(api: dict[str, httpx.Client]) -> None:
    def total(groups: list[dict[str, Any]]) -> int:
        return int(
            api["hubspot"]
            .post("/crm/v3/objects/deals/search", json={"filterGroups": groups})
            .json()["total"]
        )

    default = {"filters": [{"propertyName": "pipeline", "operator": "EQ", "value": "default"}]}
    enterprise = {
        "filters": [{"propertyName": "pipeline", "operator": "EQ", "value": "enterprise"}]
    }
    assert total([default, enterprise]) == total([default]) + total([enterprise])


def test_search_rejects_a_limit_above_200_and_an_unknown_operator(
    api: dict[str, httpx.Client],
) -> None:
    assert (
        api["hubspot"].post("/crm/v3/objects/deals/search", json={"limit": 201}).status_code == 400
    )
    bad = api["hubspot"].post(
        "/crm/v3/objects/deals/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "amount", "operator": "ABOUT", "value": "1"}]}
            ]
        },
    )
    assert bad.status_code == 400 and bad.json()["category"] == "VALIDATION_ERROR"


def test_batch_read_answers_207_for_missing_ids(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    some = next(r["id"] for r in sandbox.expected("hubspot.deals") if not r["archived"])
    response = api["hubspot"].post(
        "/crm/v3/objects/deals/batch/read",
        json={"inputs": [{"id": some}, {"id": "1"}], "properties": ["dealname"]},
    )
    assert response.status_code == 207
    body = response.json()
    assert [r["id"] for r in body["results"]] == [some]
    assert body["errors"][0]["context"]["ids"] == ["1"]


def test_association_batch_reads_give_each_deals_company(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    row = next(r for r in sandbox.expected("hubspot.deals") if not r["archived"])
    v3 = (
        api["hubspot"]
        .post(
            "/crm/v3/associations/deals/companies/batch/read", json={"inputs": [{"id": row["id"]}]}
        )
        .json()
    )
    v4 = (
        api["hubspot"]
        .post(
            "/crm/v4/associations/deals/companies/batch/read", json={"inputs": [{"id": row["id"]}]}
        )
        .json()
    )
    assert v3["results"][0]["to"][0]["id"] == row["company_id"]
    assert str(v4["results"][0]["to"][0]["toObjectId"]) == row["company_id"]


def test_owners_and_pipelines(api: dict[str, httpx.Client], sandbox: SandboxHandle) -> None:
    active = api["hubspot"].get("/crm/v3/owners").json()["results"]
    gone = api["hubspot"].get("/crm/v3/owners", params={"archived": "true"}).json()["results"]
    assert {o["id"] for o in active + gone} == {r["id"] for r in sandbox.expected("hubspot.owners")}
    assert all(o["type"] == "PERSON" and isinstance(o["userId"], int) for o in active)
    pipelines = api["hubspot"].get("/crm/v3/pipelines/deals").json()
    assert "paging" not in pipelines
    assert {p["id"] for p in pipelines["results"]} == {"default", "enterprise"}


def test_general_responses_carry_rate_limit_headers(fresh: Any) -> None:
    _, api = fresh(rate_limits="real")
    response = api["hubspot"].get("/crm/v3/owners")
    assert response.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert int(response.headers["X-HubSpot-RateLimit-Remaining"]) == 99


def test_bulk_import_search_caps_at_10000_and_id_tiebreak_gets_past_it(fresh: Any) -> None:
    sb, api = fresh(scenario="hubspot_bulk_import", scale=0.05)
    stamps: dict[str, int] = {}
    for row in sb.expected("hubspot.contacts"):
        stamps[row["updated_at"]] = stamps.get(row["updated_at"], 0) + 1
    stamp, size = max(stamps.items(), key=lambda item: item[1])
    assert size > 10_000
    same = {"propertyName": "lastmodifieddate", "operator": "EQ", "value": stamp}
    search = "/crm/v3/objects/contacts/search"
    capped = api["hubspot"].post(
        search, json={"filterGroups": [{"filters": [same]}], "after": "10000", "limit": 100}
    )
    assert capped.status_code == 400 and capped.json()["category"] == "VALIDATION_ERROR"
    near = (
        api["hubspot"]
        .post(search, json={"filterGroups": [{"filters": [same]}], "after": "9900", "limit": 200})
        .json()
    )
    assert near["total"] == size and len(near["results"]) == 100
    seen: set[str] = set()
    last_id = "0"
    while True:  # the (timestamp, id) walk a correct client uses
        page = (
            api["hubspot"]
            .post(
                search,
                json={
                    "filterGroups": [
                        {
                            "filters": [
                                same,
                                {
                                    "propertyName": "hs_object_id",
                                    "operator": "GT",
                                    "value": last_id,
                                },
                            ]
                        }
                    ],
                    "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                    "limit": 200,
                },
            )
            .json()
        )
        if not page["results"]:
            break
        seen |= {r["id"] for r in page["results"]}
        last_id = page["results"][-1]["id"]
    assert len(seen) == size
