"""Fake Asana REST API 1.0: workspaces, users, projects, tasks with offset paging, events.

Bodies are `{"data": …}` or `{"errors": [{message, help}]}`. `next_page` is present only when
`limit` was sent; offsets are server-issued, opaque, and expire when the data changes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sophia_cli.sandbox.adversity import churn_tasks
from sophia_cli.sandbox.asana_events import TokenExpired
from sophia_cli.sandbox.clock import parse_iso
from sophia_cli.sandbox.dataset import Record
from sophia_cli.sandbox.state import Sandbox

HELP = (
    "For more information on API status codes and how to handle them, read the docs on "
    "errors: https://developers.asana.com/docs/errors"
)
TOO_LARGE = (
    "The result is too large. You should use pagination (may require specifying a workspace)!"
)
EXPIRED = "offset: Your pagination token has expired. Restart the listing without an offset."
MAX_OFFSETS = 50_000
COMPACT = {"task": ("gid", "resource_type", "name", "resource_subtype")}


class AsanaError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str) -> JSONResponse:
    """Asana's error envelope; 500s carry a support phrase."""
    body: dict[str, Any] = {"message": message, "help": HELP}
    if status >= 500:
        body["phrase"] = "6 sad squid snuggle softly"
    return JSONResponse({"errors": [body]}, status_code=status)


def fault_response(kind: str, retry_after: int) -> Response:
    """What Asana answers for a scripted fault of `kind`."""
    if kind == "429":
        return error_response(
            429,
            "You've made too many requests and hit a rate limit. Please "
            "retry after the given amount of time.",
        )
    if kind in ("500", "502", "503"):
        return error_response(int(kind), "Server Error")
    if kind == "401":
        return error_response(401, "Not Authorized")
    if kind == "expired_offset":
        return error_response(400, EXPIRED)
    return JSONResponse({"data": {"unexpected": True, "items": "moved"}})


def serialize(record: Record, opt_fields: set[str]) -> Record:
    """The compact record plus the top-level fields named in `opt_fields` (dotted paths ok)."""
    keep = set(COMPACT.get(record["resource_type"], ("gid", "resource_type", "name")))
    keep |= opt_fields & set(record)
    return {k: v for k, v in record.items() if k in keep and not k.startswith("_")}


def opt_fields_of(request: Request) -> set[str]:
    """The top-level field names asked for with `opt_fields`."""
    raw = request.query_params.get("opt_fields", "")
    return {part.split(".")[0].strip() for part in raw.split(",") if part.strip()}


def paginate(sb: Sandbox, request: Request, items: Iterable[Record]) -> JSONResponse:
    """Asana paging: no `limit` → everything (or 400 when large); `limit` → offset tokens."""
    fields = opt_fields_of(request)
    ordered = sorted(items, key=lambda r: int(r["gid"]))
    raw_limit = request.query_params.get("limit")
    if raw_limit is None:
        if len(ordered) > 100:
            raise AsanaError(400, TOO_LARGE)
        return JSONResponse({"data": [serialize(r, fields) for r in ordered]})
    try:
        limit = int(raw_limit)
    except ValueError as exc:
        raise AsanaError(400, "limit: Not a valid integer") from exc
    if not 1 <= limit <= 100:
        raise AsanaError(400, "limit: Must be between 1 and 100")
    listing = listing_key(request)
    offset = request.query_params.get("offset")
    if offset is not None:
        issued = sb.asana_offsets.get(offset)
        if issued is None or issued[0] != listing or issued[2] != sb.offset_generation:
            raise AsanaError(400, EXPIRED)
        ordered = [r for r in ordered if int(r["gid"]) > int(issued[1])]
    page = ordered[:limit]
    next_page = None
    if len(ordered) > limit:
        token = (
            base64.urlsafe_b64encode(
                f"eyJ0eXAiOiJKV1Qi.{sb.next_serial()}.{page[-1]['gid']}".encode()
            )
            .decode()
            .rstrip("=")
        )
        if len(sb.asana_offsets) >= MAX_OFFSETS:  # the oldest offsets expire first
            for stale in list(sb.asana_offsets)[: MAX_OFFSETS // 2]:
                del sb.asana_offsets[stale]
        sb.asana_offsets[token] = (listing, page[-1]["gid"], sb.offset_generation)
        query = dict(request.query_params)
        query["offset"] = token
        path = (
            request.url.path.split("/api/1.0", 1)[-1]
            + "?"
            + "&".join(f"{k}={v}" for k, v in query.items())
        )
        next_page = {"offset": token, "path": path, "uri": f"https://app.asana.com/api/1.0{path}"}
    return JSONResponse({"data": [serialize(r, fields) for r in page], "next_page": next_page})


def listing_key(request: Request) -> str:
    """What an offset belongs to: the path and the filters, not the page controls."""
    skip = {"offset", "limit", "opt_fields", "opt_pretty"}
    query = sorted((k, v) for k, v in request.query_params.items() if k not in skip)
    return request.url.path + "?" + "&".join(f"{k}={v}" for k, v in query)


def _since(request: Request, name: str) -> datetime | None:
    """A date-time query parameter, or 400 when it does not parse."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        return parse_iso(str(raw))
    except ValueError as exc:
        raise AsanaError(400, f"{name}: Not a valid date-time: {raw}") from exc


def _workspace(sb: Sandbox, gid: str | None) -> Record:
    """The one workspace, or Asana's 400 (missing) / 404 (unknown)."""
    if not gid:
        raise AsanaError(400, "workspace: Missing input")
    if gid != sb.data.asana.workspace["gid"]:
        raise AsanaError(404, f"workspace: Unknown object: {gid}")
    return sb.data.asana.workspace


def _project(sb: Sandbox, gid: str) -> Record:
    """A project by gid, or 404."""
    project = sb.data.asana.projects.get(gid)
    if project is None:
        raise AsanaError(404, f"project: Unknown object: {gid}")
    return project


def list_workspaces(sb: Sandbox, request: Request) -> Response:
    """GET /workspaces."""
    return paginate(sb, request, [sb.data.asana.workspace])


def me(sb: Sandbox, request: Request) -> Response:
    """GET /users/me: the token's owner."""
    user = sb.data.asana.users[min(sb.data.asana.users, key=int)]
    return JSONResponse({"data": serialize(user, {"email", "workspaces"})})


def list_users(sb: Sandbox, request: Request) -> Response:
    """GET /users?workspace=: paged, sorted by gid."""
    _workspace(sb, request.query_params.get("workspace"))
    return paginate(sb, request, sb.data.asana.users.values())


def workspace_users(sb: Sandbox, request: Request) -> Response:
    """GET /workspaces/{gid}/users: not paged, by name, at most 2000."""
    _workspace(sb, request.path_params["gid"])
    users = sorted(sb.data.asana.users.values(), key=lambda u: u["name"])[:2000]
    fields = opt_fields_of(request)
    return JSONResponse({"data": [serialize(u, fields) for u in users]})


def get_user(sb: Sandbox, request: Request) -> Response:
    """GET /users/{gid}."""
    user = sb.data.asana.users.get(request.path_params["gid"])
    if user is None:
        raise AsanaError(404, f"user: Unknown object: {request.path_params['gid']}")
    return JSONResponse({"data": serialize(user, opt_fields_of(request) | {"email"})})


def list_projects(sb: Sandbox, request: Request) -> Response:
    """GET /projects?workspace=&archived=."""
    gid = request.path_params.get("gid") or request.query_params.get("workspace")
    _workspace(sb, gid)
    archived = request.query_params.get("archived")
    projects = [
        p
        for p in sb.data.asana.projects.values()
        if archived is None or str(p["archived"]).lower() == archived.lower()
    ]
    return paginate(sb, request, projects)


def get_project(sb: Sandbox, request: Request) -> Response:
    """GET /projects/{gid}."""
    project = _project(sb, request.path_params["gid"])
    return JSONResponse({"data": serialize(project, opt_fields_of(request))})


def _task_filter(request: Request) -> Callable[[Record], bool]:
    """The `modified_since` / `completed_since` filters as a predicate."""
    modified_since = _since(request, "modified_since")
    raw_completed = request.query_params.get("completed_since")
    completed_since = (
        None if raw_completed in (None, "", "now") else _since(request, "completed_since")
    )

    def keep(task: Record) -> bool:
        if modified_since and parse_iso(task["modified_at"]) <= modified_since:
            return False
        if raw_completed == "now" and task["completed"]:
            return False
        return not (
            completed_since
            and task["completed"]
            and parse_iso(task["completed_at"]) <= completed_since
        )

    return keep


def list_tasks(sb: Sandbox, request: Request) -> Response:
    """GET /tasks: by project, or by assignee within a workspace."""
    query = request.query_params
    tasks: list[Record] = list(sb.data.asana.tasks.values())
    if query.get("project"):
        project = _project(sb, query["project"])
        # A project's task list holds its top-level tasks: subtasks come through their parent.
        tasks = [t for t in tasks if t["_project"] == project["gid"] and not t.get("_parent")]
    elif query.get("assignee") and query.get("workspace"):
        _workspace(sb, query["workspace"])
        wanted = query["assignee"]
        tasks = [t for t in tasks if t["assignee"] and t["assignee"]["gid"] == wanted]
    elif query.get("assignee"):
        raise AsanaError(400, "workspace: Missing input")
    else:
        raise AsanaError(
            400,
            "project: Missing input (give project, tag, or assignee and workspace)"
            if query.get("workspace")
            else "workspace: Missing input",
        )
    keep = _task_filter(request)
    response = paginate(sb, request, [t for t in tasks if keep(t)])
    if sb.adversities.churn_per_page:  # the page is out; people keep editing tasks meanwhile
        sb.task_pages += 1
        churn_tasks(sb.data, sb.adversities, sb.clock.now(), sb.task_pages)
    return response


def project_tasks(sb: Sandbox, request: Request) -> Response:
    """GET /projects/{gid}/tasks: like /tasks?project= but no modified_since."""
    project = _project(sb, request.path_params["gid"])
    if "modified_since" in request.query_params:
        raise AsanaError(400, "modified_since: Unknown parameter for this endpoint")
    keep = _task_filter(request)
    return paginate(
        sb,
        request,
        [
            t
            for t in sb.data.asana.tasks.values()
            if t["_project"] == project["gid"] and not t.get("_parent") and keep(t)
        ],
    )


def subtasks(sb: Sandbox, request: Request) -> Response:
    """GET /tasks/{gid}/subtasks: the direct subtasks of a task (404 when it is gone)."""
    parent = request.path_params["gid"]
    if parent not in sb.data.asana.tasks:
        raise AsanaError(404, f"task: Unknown object: {parent}")
    children = [t for t in sb.data.asana.tasks.values() if t.get("_parent") == parent]
    return paginate(sb, request, sorted(children, key=lambda t: int(t["gid"])))


def search_tasks(sb: Sandbox, request: Request) -> Response:
    """Search is premium-only; the sandbox's workspace is on the free plan."""
    _workspace(sb, request.path_params["gid"])
    raise AsanaError(402, "Search is only available to premium users.")


def get_task(sb: Sandbox, request: Request) -> Response:
    """GET /tasks/{gid}: every field; deleted tasks are 404."""
    task = sb.data.asana.tasks.get(request.path_params["gid"])
    if task is None:
        raise AsanaError(404, f"task: Unknown object: {request.path_params['gid']}")
    return JSONResponse({"data": serialize(task, opt_fields_of(request) | set(task))})


def events(sb: Sandbox, request: Request) -> Response:
    """GET /events?resource=&sync=: what changed since the token, or 412 with a fresh one."""
    resource = request.query_params.get("resource")
    if not resource:
        raise AsanaError(400, "resource: Missing input")
    if resource not in sb.data.asana.projects and resource not in sb.data.asana.tasks:
        raise AsanaError(404, f"resource: Unknown object: {resource}")
    try:
        data, token, has_more = sb.data.asana.events.read(
            resource, request.query_params.get("sync")
        )
    except TokenExpired as exc:
        body = {"errors": [{"message": str(exc), "help": HELP}], "sync": exc.token}
        return JSONResponse(body, status_code=412)
    return JSONResponse({"data": data, "sync": token, "has_more": has_more})


HANDLERS: tuple[tuple[str, Callable[[Sandbox, Request], Response]], ...] = (
    ("/workspaces", list_workspaces),
    ("/users/me", me),
    ("/users", list_users),
    ("/users/{gid}", get_user),
    ("/workspaces/{gid}/users", workspace_users),
    ("/workspaces/{gid}/tasks/search", search_tasks),
    ("/projects", list_projects),
    ("/workspaces/{gid}/projects", list_projects),
    ("/projects/{gid}", get_project),
    ("/projects/{gid}/tasks", project_tasks),
    ("/tasks", list_tasks),
    ("/tasks/{gid}", get_task),
    ("/tasks/{gid}/subtasks", subtasks),
    ("/events", events),
)


def routes(sb: Sandbox) -> list[Route]:
    """GET routes, each behind the Bearer check and the error envelope."""

    def endpoint(handler: Callable[[Sandbox, Request], Response]) -> Any:
        async def serve(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            if header != f"Bearer {sb.tokens.asana}":
                return error_response(401, "Not Authorized")
            try:
                with sb.lock:
                    return handler(sb, request)
            except AsanaError as exc:
                return error_response(exc.status, exc.message)

        return serve

    async def unknown(request: Request) -> Response:
        return error_response(404, f"Unknown path: {request.url.path}")

    return [
        *(Route(path, endpoint(h), methods=["GET"]) for path, h in HANDLERS),
        Route("/{rest:path}", unknown, methods=["GET", "POST", "PUT", "DELETE"]),
    ]
