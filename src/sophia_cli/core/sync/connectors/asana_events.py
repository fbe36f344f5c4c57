"""Asana's event streams: what changed since a `sync` token, read per project and parent task.

A project's stream carries its tasks' deletions (a deleted task leaves every listing, so
`modified_since` never shows it); a parent task's stream carries its subtasks' changes (a
subtask change does not modify the parent, and subtasks are in no project listing). A
missing or too-old token is a 412 whose body holds a fresh token: the caller re-reads that
resource in full and keeps the new token. Events are delivered at most once, so the periodic
sweep stays the source of truth; events make deletions and subtask edits arrive in between.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sophia_cli.core.sync.errors import TerminalApiError
from sophia_cli.core.sync.http import ApiClient, decode, shape_error
from sophia_cli.core.sync.streams import Conn

SOURCE = "asana"
MAX_EVENT_PAGES = 1000  # 100 events each; more means the stream is not draining


class TokenExpired(TerminalApiError):
    """A 412 on /events: re-read the resource, then continue from `token`."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


@dataclass(frozen=True)
class Stored:
    """A token kept in the warehouse: the resource's kind and the project it belongs to."""

    kind: str
    scope: str
    token: str


@dataclass(frozen=True)
class Poll:
    """What one read of a stream gave: the events, and where the next read starts.

    `expired` means the old token was unusable (or there was none): the events in between
    are unknown and the resource must be re-read.
    """

    token: str
    expired: bool
    events: list[dict[str, Any]] = field(default_factory=list)


async def poll(client: ApiClient, resource: str, token: str | None) -> Poll:
    """Every event on `resource` since `token`, following `has_more`."""
    events: list[dict[str, Any]] = []
    current = token
    for _ in range(MAX_EVENT_PAGES):
        params = {"resource": resource, **({"sync": current} if current else {})}
        try:
            response = await client.request("GET", "/events", params=params)
        except TokenExpired as exc:
            return Poll(exc.token, expired=True)
        body = decode(response, "Asana")
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise shape_error("Asana", "/events", "no `data` list", body)
        if not isinstance(body.get("sync"), str):
            raise shape_error("Asana", "/events", "no `sync` token", body)
        events.extend(body["data"])
        current = body["sync"]
        if not body.get("has_more"):
            return Poll(current, expired=False, events=events)
    raise TerminalApiError(f"Asana /events for {resource} had more than {MAX_EVENT_PAGES} pages")


@dataclass
class ProjectEvents:
    """A project stream's events, sorted into what the run must do."""

    deleted: set[str] = field(default_factory=set)  # gone: mark them and what is below
    removed: set[str] = field(default_factory=set)  # left this project (maybe not deleted)
    undeleted: set[str] = field(default_factory=set)  # back: read them again


def sort_project_events(project: str, events: list[dict[str, Any]]) -> ProjectEvents:
    """Deletions, removals from `project` and undeletions of tasks, in the order they came."""
    result = ProjectEvents()
    for event in events:
        resource = event.get("resource") or {}
        if resource.get("resource_type") != "task" or not resource.get("gid"):
            continue  # stories, attachments, the project itself
        gid, action = str(resource["gid"]), event.get("action")
        parent = (event.get("parent") or {}).get("gid")
        if action == "deleted":
            result.deleted.add(gid)
            result.undeleted.discard(gid)
        elif action == "undeleted":
            result.deleted.discard(gid)
            result.removed.discard(gid)
            result.undeleted.add(gid)
        elif action == "removed" and parent == project:
            result.removed.add(gid)
        elif action == "added" and parent == project:
            result.removed.discard(gid)
    return result


def touches_children(parent: str, events: list[dict[str, Any]]) -> bool:
    """Whether any event on `parent`'s stream is about one of its subtasks (not itself)."""
    return any(
        (e.get("resource") or {}).get("resource_type") == "task"
        and str((e.get("resource") or {}).get("gid")) != parent
        for e in events
    )


def deleted_itself(parent: str, events: list[dict[str, Any]]) -> bool:
    """Whether `parent`'s own stream says the task itself was deleted (and not undeleted)."""
    state = False
    for event in events:
        if str((event.get("resource") or {}).get("gid")) == parent:
            if event.get("action") == "deleted":
                state = True
            elif event.get("action") == "undeleted":
                state = False
    return state


async def read_tokens(conn: Conn) -> dict[str, Stored]:
    """Every stored Asana token by resource."""
    cursor = await conn.execute(
        "SELECT resource, kind, scope, token FROM sophia.sync_tokens WHERE source = %s",
        (SOURCE,),
    )
    return {str(r[0]): Stored(str(r[1]), str(r[2]), str(r[3])) for r in await cursor.fetchall()}


async def write_tokens(conn: Conn, tokens: dict[str, Stored]) -> None:
    """Store these tokens (inside the transaction that applied their events)."""
    for resource, stored in sorted(tokens.items()):
        await conn.execute(
            "INSERT INTO sophia.sync_tokens (source, resource, kind, scope, token, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, now())"
            " ON CONFLICT (source, resource) DO UPDATE SET kind = EXCLUDED.kind,"
            " scope = EXCLUDED.scope, token = EXCLUDED.token, updated_at = now()",
            (SOURCE, resource, stored.kind, stored.scope, stored.token),
        )


async def drop_stale_parent_tokens(conn: Conn, project: str) -> None:
    """Forget parent tokens of `project` whose task is gone or has no live subtask left."""
    await conn.execute(
        "DELETE FROM sophia.sync_tokens WHERE source = %s AND kind = 'task' AND scope = %s"
        " AND resource NOT IN (SELECT parent_gid FROM asana.tasks"
        " WHERE NOT deleted AND parent_gid IS NOT NULL AND project_gid = %s)",
        (SOURCE, project, project),
    )


async def drop_projects_except(conn: Conn, projects: list[str]) -> None:
    """Forget the tokens of projects (and their parents) a sweep no longer lists."""
    await conn.execute(
        "DELETE FROM sophia.sync_tokens WHERE source = %s AND NOT (scope = ANY(%s))",
        (SOURCE, projects),
    )
