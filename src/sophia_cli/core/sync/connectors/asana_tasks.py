"""Asana tasks: per project with `modified_since`, deletions and subtask edits from events.

Each project keeps an event-stream token, and so does each parent task (a subtask is in no
project listing, and changing it does not modify its parent). A run reads the events since
the token: deleted tasks are marked in the same run, a parent whose subtasks changed has them
re-listed. A missing or expired token (412) re-reads that project or parent in full and keeps
the fresh token. The periodic sweep (ASANA_SWEEP_HOURS, or --full) lists every task and marks
the ones it did not see, as events are delivered at most once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sophia_cli.core.sync.connectors import asana_events as events
from sophia_cli.core.sync.connectors.asana_api import (
    SUBTASK_DEPTH,
    TASK_FIELDS,
    TASKS,
    ObjectGone,
    OffsetExpired,
    paged,
    task_row,
)
from sophia_cli.core.sync.connectors.asana_events import Stored
from sophia_cli.core.sync.streams import Conn, Finish, Page, Row, StreamContext
from sophia_cli.core.sync.values import iso, parse_time

OVERLAP = timedelta(minutes=1)
OFFSET_RESTARTS = 3
# Marks `%(seeds)s` and every task below them deleted (Asana deletes subtasks with a parent).
MARK_DELETED = """
WITH RECURSIVE doomed(gid) AS (
    SELECT unnest(%(seeds)s::text[])
    UNION SELECT t.gid FROM asana.tasks t JOIN doomed d ON t.parent_gid = d.gid
)
UPDATE asana.tasks SET deleted = true, deleted_at = now()
WHERE NOT deleted AND gid IN (SELECT gid FROM doomed)
"""


def _sweep_due(ctx: StreamContext, state: dict[str, Any]) -> bool:
    if ctx.since is not None:  # a re-read from a date lists too little to judge deletions
        return False
    swept = parse_time(state.get("swept_at"))
    if ctx.full or swept is None:
        return True
    return ctx.run_start - swept >= timedelta(hours=ctx.settings.asana_sweep_hours)


def _modified_since(ctx: StreamContext, in_full: bool, bookmark: str | None) -> str | None:
    if in_full:
        return None
    if ctx.since is not None:
        return iso(datetime.combine(ctx.since, time(0), tzinfo=UTC))
    start = parse_time(bookmark) if bookmark else None
    return iso(start - OVERLAP) if start else None


@dataclass
class ProjectRun:
    """One project's tasks in one run: what was seen, what is gone, the tokens to keep."""

    ctx: StreamContext
    project: str
    stored: dict[str, Stored]
    in_full: bool = False  # listed without modified_since: unseen tasks are gone
    seen: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    relisted: dict[str, set[str]] = field(default_factory=dict)  # parent -> children seen
    tokens: dict[str, Stored] = field(default_factory=dict)

    def keep(self, resource: str, kind: str, token: str) -> None:
        self.tokens[resource] = Stored(kind, self.project, token)

    @property
    def watch_parents(self) -> bool:
        """Whether parent tasks keep event tokens (ASANA_SUBTASK_EVENTS)."""
        return bool(self.ctx.settings.asana_subtask_events)

    def needs_relist(self, parent: str) -> bool:
        """A parent is re-listed in full when this project is, or it has no token yet.

        Without parent tokens every listed (so modified) parent is re-listed, and a subtask
        edited under an unchanged parent waits for the sweep.
        """
        return self.in_full or not self.watch_parents or parent not in self.stored

    def rows(self, tasks: list[dict[str, Any]]) -> list[Row]:
        rows = [task_row(task, self.project) for task in tasks]
        self.seen.update(row["gid"] for row in rows)
        return rows

    async def subtree(self, parent: str, token: str | None, depth: int) -> AsyncIterator[list[Row]]:
        """Re-list `parent`'s subtasks (a fresh token first, so nothing falls in between)."""
        if token is None and self.watch_parents:
            token = (await events.poll(self.ctx.client, parent, None)).token
        children: set[str] = set()
        path = f"/tasks/{parent}/subtasks"
        try:
            async for page in paged(self.ctx.client, path, {"opt_fields": TASK_FIELDS}):
                rows = self.rows(page)
                children.update(row["gid"] for row in rows)
                yield rows
                for task in page:
                    if task.get("num_subtasks") and depth < SUBTASK_DEPTH:
                        if self.needs_relist(task["gid"]):
                            async for deeper in self.subtree(task["gid"], None, depth + 1):
                                yield deeper
        except ObjectGone:  # deleted since it was listed
            self.gone.add(parent)
            return
        self.relisted[parent] = children
        if token is not None:
            self.keep(parent, "task", token)

    async def listing(self, since: str | None) -> AsyncIterator[list[Row]]:
        """The project's task pages; an expired offset restarts the listing."""
        params = {"project": self.project, "opt_fields": TASK_FIELDS, "modified_since": since}
        for attempt in range(OFFSET_RESTARTS + 1):
            try:
                async for tasks in paged(self.ctx.client, "/tasks", params):
                    yield self.rows(tasks)
                    for task in tasks:
                        if task.get("num_subtasks") and self.needs_relist(task["gid"]):
                            async for rows in self.subtree(task["gid"], None, 1):
                                yield rows
                return
            except OffsetExpired:
                if attempt == OFFSET_RESTARTS:
                    raise
                self.ctx.notes.append(f"project {self.project}: offset expired, listing restarted")

    async def project_events(self, sweep: bool) -> list[str]:
        """Read the project's events; a sweep, a first run or a 412 lists it in full instead.

        Returns tasks to read again (undeleted ones).
        """
        stored = None if sweep else self.stored.get(self.project)
        poll = await events.poll(self.ctx.client, self.project, stored.token if stored else None)
        self.keep(self.project, "project", poll.token)
        if poll.expired:
            self.in_full = True
            if stored is not None:
                self.ctx.notes.append(
                    f"project {self.project}: event token expired; listed in full"
                )
            return []
        sorted_events = events.sort_project_events(self.project, poll.events)
        self.gone |= sorted_events.deleted
        self.removed |= sorted_events.removed
        return sorted(sorted_events.undeleted)

    async def parents(self, done: set[str]) -> AsyncIterator[list[Row]]:
        """Each watched parent's events: re-list the ones whose subtasks changed."""
        watched = {
            r for r, s in self.stored.items() if s.kind == "task" and s.scope == self.project
        }
        watched |= set(await self._parents_without_token())
        for parent in sorted(watched - done - self.gone):
            stored = self.stored.get(parent)
            try:
                poll = await events.poll(self.ctx.client, parent, stored.token if stored else None)
            except ObjectGone:
                self.gone.add(parent)
                continue
            if events.deleted_itself(parent, poll.events):
                self.gone.add(parent)
            elif poll.expired or events.touches_children(parent, poll.events):
                async for rows in self.subtree(parent, poll.token, 1):
                    yield rows
            else:
                self.keep(parent, "task", poll.token)

    async def _parents_without_token(self) -> list[str]:
        rows = await self.ctx.fetch_all(
            "SELECT DISTINCT parent_gid FROM asana.tasks WHERE NOT deleted"
            " AND parent_gid IS NOT NULL AND project_gid = %s",
            (self.project,),
        )
        return [str(r[0]) for r in rows if str(r[0]) not in self.stored]

    async def reread(self, gids: list[str]) -> list[Row]:
        """Tasks an event says are back (undeleted), read one by one."""
        found = []
        for gid in gids:
            try:
                body = await self.ctx.client.request(
                    "GET", f"/tasks/{gid}", params={"opt_fields": TASK_FIELDS}
                )
            except ObjectGone:
                continue
            found.append(body.json().get("data") or {})
        return self.rows([t for t in found if t.get("gid")])

    def finish(self) -> Finish:
        """Mark what this run found gone and keep the tokens, in the page's transaction."""

        async def apply(conn: Conn) -> int:
            seeds = set(self.gone)
            if self.removed:  # left this project: gone from it unless another one holds it
                cursor = await conn.execute(
                    "SELECT gid FROM asana.tasks WHERE gid = ANY(%s) AND project_gid = %s",
                    (sorted(self.removed), self.project),
                )
                seeds |= {str(r[0]) for r in await cursor.fetchall()}
            for parent, children in self.relisted.items():
                cursor = await conn.execute(
                    "SELECT gid FROM asana.tasks WHERE parent_gid = %s AND NOT (gid = ANY(%s))",
                    (parent, sorted(children)),
                )
                seeds |= {str(r[0]) for r in await cursor.fetchall()}
            if self.in_full:
                cursor = await conn.execute(
                    "SELECT gid FROM asana.tasks WHERE project_gid = %s AND NOT deleted"
                    " AND NOT (gid = ANY(%s))",
                    (self.project, sorted(self.seen)),
                )
                seeds |= {str(r[0]) for r in await cursor.fetchall()}
            marked = await conn.execute(MARK_DELETED, {"seeds": sorted(seeds)})
            await events.write_tokens(conn, self.tokens)
            await events.drop_stale_parent_tokens(conn, self.project)
            return marked.rowcount

        return apply


def _mark_unseen(seen: set[str], projects: list[str]) -> Finish:
    async def finish(conn: Conn) -> int:
        result = await conn.execute(
            "UPDATE asana.tasks SET deleted = true, deleted_at = now()"
            " WHERE NOT deleted AND NOT (gid = ANY(%s))",
            (list(seen),),
        )
        await events.drop_projects_except(conn, projects)
        return result.rowcount

    return finish


async def _projects(ctx: StreamContext) -> list[str]:
    """This run's projects (from the projects stream), else the warehouse's."""
    if ctx.parents is not None:
        return sorted({str(row["gid"]) for row in ctx.parents})
    rows = await ctx.fetch_all("SELECT gid FROM asana.projects ORDER BY gid")
    return [str(row[0]) for row in rows]


async def _project_pages(
    ctx: StreamContext, run: ProjectRun, sweep: bool, bookmark: str | None
) -> AsyncIterator[list[Row]]:
    """Events first (their token must predate the listing), then the listing, then parents."""
    undeleted = await run.project_events(sweep)
    async for rows in run.listing(_modified_since(ctx, run.in_full, bookmark)):
        yield rows
    if not run.in_full:
        back = await run.reread(undeleted)
        if back:
            yield back
        if run.watch_parents:
            async for rows in run.parents(set(run.relisted)):
                yield rows


async def fetch_tasks(ctx: StreamContext) -> AsyncIterator[Page]:
    state: dict[str, Any] = dict(ctx.state or {})
    bookmarks: dict[str, str] = dict(state.get("projects") or {})
    sweep = _sweep_due(ctx, state)
    projects = await _projects(ctx)
    stored = {} if ctx.full else await events.read_tokens(ctx.conn)
    seen: set[str] = set()
    for project in projects:
        run = ProjectRun(ctx, project, stored)
        try:
            async for rows in _project_pages(ctx, run, sweep, bookmarks.get(project)):
                yield Page(rows=[(TASKS, rows)])
        except ObjectGone as exc:  # deleted since it was listed: its tasks are gone too
            ctx.notes.append(f"project {project}: {exc.message}; skipped")
            continue
        seen |= run.seen
        bookmarks[project] = iso(ctx.run_start)
        state = {**state, "projects": dict(bookmarks)}
        yield Page(rows=[], state=state, finish=run.finish())
    if sweep:
        state = {**state, "swept_at": iso(ctx.run_start)}
        yield Page(rows=[], state=state, finish=_mark_unseen(seen, projects))
