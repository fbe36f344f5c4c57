"""Asana REST API 1.0 for the streams: errors, offset paging, tables and task rows.

Offsets expire (400) and are never stored: an expired listing restarts from its first page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx

from sophia_cli.core.sync.connectors.asana_events import TokenExpired
from sophia_cli.core.sync.errors import (
    SourceAuthError,
    SourceScopeError,
    TerminalApiError,
    excerpt,
)
from sophia_cli.core.sync.http import ApiClient, decode, transient_status
from sophia_cli.core.sync.paging import OffsetPaginator
from sophia_cli.core.sync.streams import Row, Table, TextDoc
from sophia_cli.core.sync.values import parse_date, parse_time

TOKEN = "ASANA_PAT_TOKEN"
PAGE_LIMIT = 100
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


def _fresh_token(response: httpx.Response) -> str:
    """The new sync token a 412 carries next to its errors."""
    try:
        token = response.json().get("sync")
    except Exception:  # not JSON: no token to continue from
        token = None
    if not isinstance(token, str) or not token:
        raise TerminalApiError(
            f"Asana 412 on /events without a new `sync` token: {excerpt(response.text)}"
        )
    return token


def classify(response: httpx.Response) -> None:
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
    if status == 412 and path.endswith("/events"):
        raise TokenExpired(f"Asana sync token expired: {message}", _fresh_token(response))
    if status == 404:
        raise ObjectGone(f"Asana {path} answered 404: {message}")
    raise TerminalApiError(f"Asana {path} answered {status}: {message}")


async def paged(
    client: ApiClient, path: str, params: dict[str, Any]
) -> AsyncIterator[list[dict[str, Any]]]:
    """Pages of `data`, following `next_page.offset` until it is null."""

    async def send(offset: str | None) -> Any:
        query = {**params, "limit": PAGE_LIMIT, "offset": offset}
        return decode(await client.request("GET", path, params=query), "Asana")

    async for items, _ in OffsetPaginator("Asana", "data").pages(send, path):
        yield items


async def workspaces(client: ApiClient) -> list[str]:
    """Every workspace the token can see (cached on the client)."""
    cached = getattr(client, "asana_workspaces", None)
    if cached is None:
        cached = [w["gid"] async for page in paged(client, "/workspaces", {}) for w in page]
        client.asana_workspaces = cached  # type: ignore[attr-defined]
    return list(cached)


def task_doc(row: Row) -> TextDoc | None:
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
    text=task_doc,
)


def task_row(task: dict[str, Any], project: str) -> Row:
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
