"""Asana: users, projects, and tasks per project (`asana_tasks`), with a personal token."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors.asana_api import (
    PROJECTS,
    TASKS,
    TOKEN,
    USERS,
    classify,
    paged,
    workspaces,
)
from sophia_cli.core.sync.connectors.asana_tasks import fetch_tasks
from sophia_cli.core.sync.connectors.registry import register
from sophia_cli.core.sync.errors import TokenMissingError
from sophia_cli.core.sync.http import ApiClient, client_for, decode
from sophia_cli.core.sync.limiter import SlidingWindowLimiter
from sophia_cli.core.sync.streams import Page, Stream, StreamContext
from sophia_cli.core.sync.values import parse_time


async def fetch_users(ctx: StreamContext) -> AsyncIterator[Page]:
    for workspace in await workspaces(ctx.client):
        params = {"workspace": workspace, "opt_fields": "name,email"}
        async for users in paged(ctx.client, "/users", params):
            rows = [
                {"gid": u["gid"], "name": u.get("name"), "email": u.get("email")} for u in users
            ]
            yield Page(rows=[(USERS, rows)])


async def fetch_projects(ctx: StreamContext) -> AsyncIterator[Page]:
    fields = "name,archived,created_at,modified_at,team.name"
    for workspace in await workspaces(ctx.client):
        async for projects in paged(
            ctx.client, "/projects", {"workspace": workspace, "opt_fields": fields}
        ):
            rows = [
                {
                    "gid": p["gid"],
                    "name": p.get("name"),
                    "team_name": (p.get("team") or {}).get("name"),
                    "archived": bool(p.get("archived")),
                    "created_at": parse_time(p.get("created_at")),
                    "modified_at": parse_time(p.get("modified_at")),
                }
                for p in projects
            ]
            yield Page(rows=[(PROJECTS, rows)])


class AsanaConnector:
    """Asana REST API 1.0 with a personal access token."""

    name = "asana"
    token_variables: tuple[str, ...] = (TOKEN,)

    def streams(self) -> list[Stream]:
        return [
            Stream("users", USERS, None, fetch_users),
            Stream("projects", PROJECTS, None, fetch_projects),
            Stream("tasks", TASKS, "modified_at", fetch_tasks),
        ]

    def client(self, settings: Settings) -> ApiClient:
        token = settings.secret_value(TOKEN.lower())
        if token is None:
            raise TokenMissingError(f"{TOKEN} is not set", hint=f"Set {TOKEN}.")
        return client_for(
            settings,
            "Asana",
            settings.asana_api_base,
            headers={"Authorization": f"Bearer {token}"},
            classify=classify,
            published_limits={
                "default": SlidingWindowLimiter(settings.asana_rate_limit_per_min, 60.0)
            },
        )

    async def check(self, client: ApiClient) -> str:
        body = decode(await client.request("GET", "/users/me"), "Asana")
        return f"as {(body.get('data') or {}).get('name', '?')}"


register(AsanaConnector())
