"""Asana: users, projects, and tasks per project with `modified_since`.

Offsets expire (400) and are never stored: an expired listing restarts from its first
page. Deleted tasks vanish from every listing, so a periodic full sweep (ASANA_SWEEP_HOURS,
or --full) lists every task and marks the ones it did not see as deleted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.connectors.registry import register
from sophia_cli.core.sync.errors import (
    SourceAuthError,
    SourceScopeError,
    TerminalApiError,
    TokenMissingError,
    excerpt,
)
from sophia_cli.core.sync.http import ApiClient, client_for, decode, shape_error, transient_status
from sophia_cli.core.sync.limiter import SlidingWindowLimiter
from sophia_cli.core.sync.streams import (
    Conn,
    Finish,
    Page,
    Row,
    Stream,
    StreamContext,
    Table,
    TextDoc,
)
from sophia_cli.core.sync.values import iso, parse_date, parse_time

TOKEN = "ASANA_PAT_TOKEN"
PAGE_LIMIT = 100
OVERLAP = timedelta(minutes=1)
OFFSET_RESTARTS = 3
TASK_FIELDS = (
    "name,notes,completed,completed_at,created_at,modified_at,due_on,assignee,"
    "projects,permalink_url,parent,num_subtasks"
)
SUBTASK_DEPTH = 5  # Asana nests subtasks; deeper levels are rare and read no further


class ObjectGone(TerminalApiError):
    """A 404: the object (e.g. a project listed last run) no longer exists."""


class OffsetExpired(TerminalApiError):
    """A 400 for a stale `offset`: restart the listing."""


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return "; ".join(str(e.get("message")) for e in body.get("errors", []))
    except Exception:  # any non-envelope body: quote it instead
        return excerpt(response.text)


def _classify(response: httpx.Response) -> None:
    transient_status(response, "Asana")
    status, path = response.status_code, response.request.url.path
    if status == 200:
        return
    message = _message(response)
    if status == 401:
        raise SourceAuthError(
            f"Asana rejected {TOKEN} (401 {message})",
            hint=f"Set {TOKEN} to a valid personal access token (Asana → My settings → Apps).",
        )
    if status == 403:
        raise SourceScopeError(
            f"Asana refused {path} (403 {message})",
            hint=f"Give the owner of {TOKEN} access to the workspace and projects (tasks:read).",
        )
    if status == 400 and "offset" in message.lower():
        raise OffsetExpired(f"Asana offset expired on {path}: {message}")
    if status == 404:
        raise ObjectGone(f"Asana {path} answered 404: {message}")
    raise TerminalApiError(f"Asana {path} answered {status}: {message}")


async def paged(
    client: ApiClient, path: str, params: dict[str, Any]
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of `data`, following `next_page.offset` until it is null."""
    offset = None
    while True:
        response = await client.request(
            "GET", path, params={**params, "limit": PAGE_LIMIT, "offset": offset}
        )
        body = decode(response, "Asana")
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise shape_error("Asana", path, "no `data` list", body)
        yield body["data"]
        next_page = body.get("next_page")
        if not next_page:
            return
        offset = next_page.get("offset")


async def workspaces(client: ApiClient) -> list[str]:
    """Every workspace the token can see (cached on the client)."""
    cached = getattr(client, "asana_workspaces", None)
    if cached is None:
        cached = [w["gid"] async for page in paged(client, "/workspaces", {}) for w in page]
        client.asana_workspaces = cached  # type: ignore[attr-defined]
    return list(cached)


def _task_doc(row: Row) -> TextDoc | None:
    text = "\n".join(part for part in (row.get("name"), row.get("notes")) if part)
    modified = row.get("modified_at")
    return TextDoc(
        id=f"asana:{row['gid']}",
        source="asana",
        kind="task",
        author=str(row.get("assignee_gid") or ""),
        ts=int(modified.timestamp()) if isinstance(modified, datetime) else 0,
        url=f"https://app.asana.com/0/{row.get('project_gid') or 0}/{row['gid']}",
        text=text,
    )


USERS = Table("asana.users", ("gid",), ("gid", "name", "email"))
PROJECTS = Table(
    "asana.projects",
    ("gid",),
    ("gid", "name", "team_name", "archived", "created_at", "modified_at"),
)
TASKS = Table(
    "asana.tasks",
    ("gid",),
    (
        "gid",
        "project_gid",
        "parent_gid",
        "name",
        "assignee_gid",
        "completed",
        "completed_at",
        "due_on",
        "created_at",
        "modified_at",
        "notes",
        "deleted",
        "deleted_at",
    ),
    text=_task_doc,
)


def _task_row(task: dict[str, Any], project: str) -> Row:
    projects = task.get("projects") or []
    return {
        "gid": task["gid"],
        "project_gid": projects[0]["gid"] if projects else project,
        "parent_gid": (task.get("parent") or {}).get("gid"),
        "name": task.get("name"),
        "assignee_gid": (task.get("assignee") or {}).get("gid"),
        "completed": bool(task.get("completed")),
        "completed_at": parse_time(task.get("completed_at")),
        "due_on": parse_date(task.get("due_on")),
        "created_at": parse_time(task.get("created_at")),
        "modified_at": parse_time(task.get("modified_at")),
        "notes": task.get("notes"),
        "deleted": False,
        "deleted_at": None,
    }


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


def _sweep_due(ctx: StreamContext, state: dict[str, Any]) -> bool:
    swept = parse_time(state.get("swept_at"))
    if ctx.full or swept is None:
        return True
    return ctx.run_start - swept >= timedelta(hours=ctx.settings.asana_sweep_hours)


def _modified_since(ctx: StreamContext, sweep: bool, bookmark: str | None) -> str | None:
    if ctx.since is not None:
        return iso(datetime.combine(ctx.since, time(0), tzinfo=UTC))
    if sweep or bookmark is None:
        return None
    start = parse_time(bookmark)
    return iso(start - OVERLAP) if start else None


def _mark_unseen(seen: set[str]) -> Finish:
    async def finish(conn: Conn) -> int:
        result = await conn.execute(
            "UPDATE asana.tasks SET deleted = true, deleted_at = now()"
            " WHERE NOT deleted AND NOT (gid = ANY(%s))",
            (list(seen),),
        )
        return result.rowcount

    return finish


async def _subtasks(
    ctx: StreamContext, tasks: list[dict[str, Any]], project: str, seen: set[str], depth: int
) -> AsyncIterator[list[Row]]:
    """Subtasks of these tasks (a project's task list does not include them), nested too.

    Read for the parents this listing returned: on an incremental run, the modified ones;
    a sweep lists every parent, so every subtask is seen at least once per sweep.
    """
    for task in tasks:
        if not task.get("num_subtasks") or depth > SUBTASK_DEPTH:
            continue
        path = f"/tasks/{task['gid']}/subtasks"
        try:
            async for children in paged(ctx.client, path, {"opt_fields": TASK_FIELDS}):
                rows = [_task_row(child, project) for child in children]
                seen.update(row["gid"] for row in rows)
                yield rows
                async for deeper in _subtasks(ctx, children, project, seen, depth + 1):
                    yield deeper
        except ObjectGone:  # deleted since its parent was listed: the sweep marks it
            continue


async def _project_pages(
    ctx: StreamContext, project: str, since: str | None, seen: set[str]
) -> AsyncIterator[list[Row]]:
    """Task pages of one project; an expired offset restarts the listing."""
    params = {"project": project, "opt_fields": TASK_FIELDS, "modified_since": since}
    for attempt in range(OFFSET_RESTARTS + 1):
        try:
            async for tasks in paged(ctx.client, "/tasks", params):
                rows = [_task_row(t, project) for t in tasks]
                seen.update(row["gid"] for row in rows)
                yield rows
                async for subtask_rows in _subtasks(ctx, tasks, project, seen, 1):
                    yield subtask_rows
            return
        except OffsetExpired:
            if attempt == OFFSET_RESTARTS:
                raise
            ctx.notes.append(f"project {project}: offset expired, listing restarted")


async def _projects(ctx: StreamContext) -> list[str]:
    """This run's projects (from the projects stream), else the warehouse's."""
    if ctx.parents is not None:
        return sorted({str(row["gid"]) for row in ctx.parents})
    rows = await ctx.fetch_all("SELECT gid FROM asana.projects ORDER BY gid")
    return [str(row[0]) for row in rows]


async def fetch_tasks(ctx: StreamContext) -> AsyncIterator[Page]:
    state: dict[str, Any] = dict(ctx.state or {})
    bookmarks: dict[str, str] = dict(state.get("projects") or {})
    sweep = _sweep_due(ctx, state)
    projects = await _projects(ctx)
    seen: set[str] = set()
    for project in projects:
        since = _modified_since(ctx, sweep, bookmarks.get(project))
        try:
            async for rows in _project_pages(ctx, project, since, seen):
                yield Page(rows=[(TASKS, rows)])
        except ObjectGone as exc:  # deleted since it was listed: its tasks are gone too
            ctx.notes.append(f"project {project}: {exc.message}; skipped")
            continue
        bookmarks[project] = iso(ctx.run_start)
        state = {**state, "projects": dict(bookmarks)}
        yield Page(rows=[], state=state)
    if sweep and ctx.since is None:
        state = {**state, "swept_at": iso(ctx.run_start)}
        yield Page(rows=[], state=state, finish=_mark_unseen(seen))


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
            classify=_classify,
            published_limits={
                "default": SlidingWindowLimiter(settings.asana_rate_limit_per_min, 60.0)
            },
        )

    async def check(self, client: ApiClient) -> str:
        body = decode(await client.request("GET", "/users/me"), "Asana")
        return f"as {(body.get('data') or {}).get('name', '?')}"


register(AsanaConnector())
