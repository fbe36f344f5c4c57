"""Asana's event streams (`GET /events?resource=&sync=`) as the fake serves them.

What the real API documents and this log reproduces:
- a stream belongs to a resource, a project or a task; a project's stream carries the events
  of the tasks that are members of it, a task's stream those of the task and its subtasks
  (a project's stream does not carry its tasks' subtasks: subtasks are not project members);
- the first call, or a call with a token that is unknown, belongs to another resource, or is
  too old, is a 412 whose body carries a fresh token from now on;
- tokens expire after 24 h, or sooner (`expire_all`, as under load); at most 100 events per
  call with `has_more`; re-reading the same token gives the same answer;
- deletions are events (`deleted`), and so are changes to a subtask under a parent that
  itself did not change.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]
TOKEN_TTL_S = 24 * 3600.0  # Asana: "Sync tokens always expire after 24 hours"
PAGE = 100  # Asana returns at most 100 events per call
STALE = (
    "Sync token invalid or too old. If you are attempting to keep resources in sync, you must "
    "fetch the full dataset for this query now and use the new sync token for the next sync."
)


class TokenExpired(Exception):
    """A 412: the caller must re-read the resource; `token` is where its next read starts."""

    def __init__(self, token: str) -> None:
        super().__init__(STALE)
        self.token = token


@dataclass(frozen=True)
class Event:
    serial: int
    at: float  # wall-clock seconds: events older than the token lifetime are dropped
    audience: frozenset[str]  # the resources whose streams carry this event
    body: Record


@dataclass
class Issued:
    resource: str
    after: int  # the serial of the last event this token has already seen
    at: float


@dataclass
class EventLog:
    """Every Asana change since the sandbox started, and the sync tokens it issued."""

    ttl_s: float = TOKEN_TTL_S
    page: int = PAGE
    events: list[Event] = field(default_factory=list)
    tokens: dict[str, Issued] = field(default_factory=dict)
    _serials: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _last: int = 0
    _dropped_through: int = 0  # the newest serial already dropped for age
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, action: str, task: Record, at: str, field_name: str | None = None) -> None:
        """One change to `task` (before it leaves the data, for deletions)."""
        parent_gid = task.get("_parent")
        container = (
            {"gid": parent_gid, "resource_type": "task"}
            if parent_gid
            else {"gid": task.get("_project"), "resource_type": "project"}
        )
        body: Record = {
            "user": None,
            "created_at": at,
            "action": action,
            "type": "task",
            "resource": {
                "gid": task["gid"],
                "resource_type": "task",
                "name": task.get("name"),
                "resource_subtype": task.get("resource_subtype", "default_task"),
            },
            # added/removed name the container; changes and deletions have no parent.
            "parent": container if action in ("added", "removed") else None,
        }
        if action == "changed":
            body["change"] = {"field": field_name or "name", "action": "changed"}
        audience = {task["gid"], str(container["gid"])} - {"None"}
        with self._lock:
            self._last = next(self._serials)
            now = time.time()
            self.events.append(Event(self._last, now, frozenset(audience), body))
            while self.events and now - self.events[0].at > self.ttl_s:
                self._dropped_through = self.events.pop(0).serial

    def _issue(self, resource: str, after: int) -> str:
        raw = f"{resource}:{after}:{len(self.tokens)}:{time.time_ns()}".encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        self.tokens[token] = Issued(resource, after, time.time())
        return token

    def read(self, resource: str, token: str | None) -> tuple[list[Record], str, bool]:
        """(events, next token, has_more) since `token`; TokenExpired when it is not usable."""
        with self._lock:
            issued = self.tokens.get(token or "")
            if (
                issued is None
                or issued.resource != resource
                or time.time() - issued.at > self.ttl_s
                or issued.after < self._dropped_through  # events it never saw are gone
            ):
                raise TokenExpired(self._issue(resource, self._last))
            matching = [
                e for e in self.events if e.serial > issued.after and resource in e.audience
            ]
            batch = matching[: self.page]
            has_more = len(matching) > len(batch)
            after = batch[-1].serial if has_more else self._last
            return [e.body for e in batch], self._issue(resource, after), has_more

    def expire_all(self) -> int:
        """Every token issued so far becomes too old (Asana: "or sooner under load")."""
        with self._lock:
            count = len(self.tokens)
            self.tokens.clear()
            return count
