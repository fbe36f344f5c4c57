"""HubSpot CRM v3: owners, companies, contacts and deals (with their company).

Objects are read incrementally through the search API (see `hubspot_search`); search never
returns archived records, so each run also lists `archived=true` and marks those rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

from psycopg import sql

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors.hubspot_api import (
    TOKEN,
    classify,
    deal_companies,
    listed,
)
from sophia_cli.core.sync.connectors.hubspot_rows import (
    OBJECTS,
    OWNERS,
    PIPELINE_STAGES,
    PIPELINES,
    listed_company,
    owner_row,
    pipeline_row,
    stage_rows,
)
from sophia_cli.core.sync.connectors.hubspot_search import Position, later, search_changes
from sophia_cli.core.sync.connectors.registry import register
from sophia_cli.core.sync.errors import TokenMissingError
from sophia_cli.core.sync.http import ApiClient, client_for, decode, shape_error
from sophia_cli.core.sync.limiter import SlidingWindowLimiter
from sophia_cli.core.sync.streams import (
    Conn,
    Fetch,
    Finish,
    Page,
    Row,
    Stream,
    StreamContext,
    Table,
)
from sophia_cli.core.sync.values import iso, parse_time, to_epoch_ms


async def _rows(client: ApiClient, kind: str, records: list[dict[str, Any]]) -> list[Row]:
    table, _, _, convert = OBJECTS[kind]
    rows = [convert(record) for record in records]
    if kind == "deals" and rows:
        companies = await deal_companies(client, [row["id"] for row in rows])
        for row in rows:
            row["company_id"] = companies.get(row["id"])
    return rows


def _listed_rows(kind: str, records: list[dict[str, Any]]) -> list[Row]:
    """Rows of a list endpoint's page (deals carry their company association inline)."""
    rows = [OBJECTS[kind][3](r) for r in records]
    if kind == "deals":
        for row, record in zip(rows, records, strict=True):
            row["company_id"] = listed_company(record)
    return rows


def _list_params(kind: str, properties: list[str], archived: bool) -> dict[str, str]:
    params = {"archived": str(archived).lower(), "properties": ",".join(properties)}
    if kind == "deals":
        params["associations"] = "companies"
    return params


def _reconcile_due(ctx: StreamContext) -> bool:
    """--full, or the last reconciliation is older than HUBSPOT_RECONCILE_HOURS."""
    if ctx.full:
        return True
    if ctx.since is not None:
        return False
    last = parse_time((ctx.state or {}).get("reconciled_at"))
    if last is None:  # a first sync reads everything; nothing can have vanished yet
        return False
    return ctx.run_start - last >= timedelta(hours=ctx.settings.hubspot_reconcile_hours)


def _archive_vanished(table: Table, listed: set[str]) -> Finish:
    """Rows whose id no listing returns any more (merged away, deleted for good): archived."""

    async def finish(conn: Conn) -> int:
        result = await conn.execute(
            sql.SQL(
                "UPDATE {} SET archived = true, archived_at = now()"
                " WHERE NOT archived AND id <> ALL(%s)"
            ).format(sql.Identifier(*table.name.split("."))),
            (sorted(listed),),
        )
        return result.rowcount

    return finish


def object_fetch(kind: str) -> Fetch:
    """One CRM object stream: search changes, list archived ones, reconcile when due."""
    table, prop, properties, _ = OBJECTS[kind]

    async def fetch(ctx: StreamContext) -> AsyncIterator[Page]:
        bookmark = Position.from_state(ctx.state)
        reconciled = {"reconciled_at": (ctx.state or {}).get("reconciled_at") or iso(ctx.run_start)}
        lookback_ms = round(ctx.settings.hubspot_lookback_minutes * 60_000)
        start = bookmark.looked_back(lookback_ms)
        if ctx.since is not None:
            since = datetime.combine(ctx.since, time(0), tzinfo=UTC)
            bookmark = start = Position(to_epoch_ms(since) - 1)
        # Writes newer than the index lag may not be searchable yet: leave them to next run.
        upper = to_epoch_ms(ctx.run_start) - round(ctx.settings.hubspot_index_lag_s * 1000)
        changes = search_changes(ctx.client, kind, prop, properties, start, upper)
        async for records, position in changes:
            rows = await _rows(ctx.client, kind, records)
            # Re-reading the look-back never moves the bookmark back.
            state = {**later(position, bookmark).to_state(), **reconciled}
            yield Page(rows=[(table, rows)], state=state)
            bookmark = later(position, bookmark)
        listed_ids: set[str] = set()
        path = f"/crm/v3/objects/{kind}"
        async for records in listed(ctx.client, path, _list_params(kind, properties, True)):
            listed_ids.update(str(r["id"]) for r in records)
            yield Page(rows=[(table, _listed_rows(kind, records))], deletes=True)
        if not _reconcile_due(ctx):
            return
        # Every live record through the list endpoint: refreshes what search cannot see
        # (association-only changes) and finds ids that vanished (merges, GDPR deletes).
        async for records in listed(ctx.client, path, _list_params(kind, properties, False)):
            listed_ids.update(str(r["id"]) for r in records)
            yield Page(rows=[(table, _listed_rows(kind, records))])
        yield Page(
            rows=[],
            state={**bookmark.to_state(), "reconciled_at": iso(ctx.run_start)},
            finish=_archive_vanished(table, listed_ids),
        )

    return fetch


def _archive_unlisted(listed: list[str]) -> Finish:
    """Pipelines the API no longer lists (deleted) stay, marked archived with their stages."""

    async def finish(conn: Conn) -> int:
        gone = await conn.execute(
            "UPDATE hubspot.pipelines SET archived = true WHERE NOT archived AND id <> ALL(%s)",
            (listed,),
        )
        await conn.execute(
            "UPDATE hubspot.pipeline_stages SET archived = true"
            " WHERE NOT archived AND pipeline_id <> ALL(%s)",
            (listed,),
        )
        return gone.rowcount

    return finish


async def fetch_pipelines(ctx: StreamContext) -> AsyncIterator[Page]:
    """Deal pipelines and their stages: one small list, read whole every run."""
    body = decode(await ctx.client.request("GET", "/crm/v3/pipelines/deals"), "HubSpot")
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise shape_error("HubSpot", "/crm/v3/pipelines/deals", "no `results` list", body)
    pipelines = body["results"]
    yield Page(
        rows=[
            (PIPELINES, [pipeline_row(p) for p in pipelines]),
            (PIPELINE_STAGES, [row for p in pipelines for row in stage_rows(p)]),
        ],
        finish=_archive_unlisted([str(p["id"]) for p in pipelines]),
    )


async def fetch_owners(ctx: StreamContext) -> AsyncIterator[Page]:
    for archived in ("false", "true"):
        async for owners in listed(ctx.client, "/crm/v3/owners", {"archived": archived}):
            yield Page(rows=[(OWNERS, [owner_row(o) for o in owners])], deletes=archived == "true")


class HubspotConnector:
    """HubSpot CRM v3 with a private-app token."""

    name = "hubspot"
    token_variables: tuple[str, ...] = (TOKEN,)

    def streams(self) -> list[Stream]:
        return [
            Stream("owners", OWNERS, None, fetch_owners),
            Stream("pipelines", PIPELINES, None, fetch_pipelines),
        ] + [
            Stream(kind, OBJECTS[kind][0], OBJECTS[kind][1], object_fetch(kind))
            for kind in ("companies", "contacts", "deals")
        ]

    def client(self, settings: Settings) -> ApiClient:
        token = settings.secret_value(TOKEN.lower())
        if token is None:
            raise TokenMissingError(f"{TOKEN} is not set", hint=f"Set {TOKEN}.")
        return client_for(
            settings,
            "HubSpot",
            settings.hubspot_api_base,
            headers={"Authorization": f"Bearer {token}"},
            classify=classify,
            published_limits={
                "default": SlidingWindowLimiter(settings.hubspot_rate_limit_per_10s, 10.0),
                "search": SlidingWindowLimiter(5, 1.0),
            },
        )

    async def check(self, client: ApiClient) -> str:
        body = decode(await client.request("GET", "/crm/v3/owners", params={"limit": 1}), "HubSpot")
        return f"{len(body.get('results') or [])} owner(s) readable"


register(HubspotConnector())
