"""The Asana fake: data envelopes, limit/offset paging, expiring offsets, filters, 404 deletes."""

from __future__ import annotations

from typing import Any

import httpx

from sophia_cli.sandbox.api.app import SandboxHandle

WORKSPACE = "1200000000000001"


def _walk(client: httpx.Client, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    pages, offset = [], None
    for _ in range(1000):
        query = {**params, **({"offset": offset} if offset else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["data"])
        if body["next_page"] is None:
            return pages
        offset = body["next_page"]["offset"]
    raise AssertionError("paging never ended")


def test_missing_or_wrong_token_is_401_not_authorized(sandbox: SandboxHandle) -> None:
    for headers in ({}, {"Authorization": "Bearer 0/nope"}):
        response = httpx.get(sandbox.env["ASANA_API_BASE"] + "/workspaces", headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["message"] == "Not Authorized"


def test_users_pages_cover_everyone_once_in_id_order(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    pages = _walk(api["asana"], "/users", workspace=WORKSPACE, limit=3, opt_fields="email")
    gids = [u["gid"] for page in pages for u in page]
    assert gids == sorted(gids, key=int) and len(gids) == len(set(gids))
    assert sorted(gids) == sorted(r["gid"] for r in sandbox.expected("asana.users"))
    assert all(u["resource_type"] == "user" and "@" in u["email"] for p in pages for u in p)


def test_next_page_is_absent_without_limit(api: dict[str, httpx.Client]) -> None:
    body = api["asana"].get("/users", params={"workspace": WORKSPACE}).json()
    assert "next_page" not in body and body["data"]


def test_limit_out_of_range_is_400(api: dict[str, httpx.Client]) -> None:
    for limit in (0, 101):
        response = api["asana"].get("/users", params={"workspace": WORKSPACE, "limit": limit})
        assert response.status_code == 400
        assert "limit" in response.json()["errors"][0]["message"]


def test_large_listing_without_limit_is_too_large(fresh: Any) -> None:
    sb, api = fresh(scale=1.0)
    sizes: dict[str, int] = {}
    for row in sb.expected("asana.tasks"):
        sizes[row["project_gid"]] = sizes.get(row["project_gid"], 0) + 1
    project, size = max(sizes.items(), key=lambda item: item[1])
    assert size > 100
    response = api["asana"].get("/tasks", params={"project": project})
    assert response.status_code == 400
    assert "result is too large" in response.json()["errors"][0]["message"]


def test_tasks_need_a_project_or_assignee_and_workspace(api: dict[str, httpx.Client]) -> None:
    response = api["asana"].get("/tasks", params={"limit": 10})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "workspace: Missing input"


def test_task_pages_across_projects_cover_every_task_once(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    projects = [
        p
        for page in _walk(
            api["asana"],
            "/projects",
            workspace=WORKSPACE,
            limit=100,
            opt_fields="archived,team.name",
        )
        for p in page
    ]
    assert any(p["archived"] for p in projects)
    seen = []
    for project in projects:
        for page in _walk(
            api["asana"],
            "/tasks",
            project=project["gid"],
            limit=25,
            opt_fields="name,completed,completed_at,due_on,modified_at,assignee",
        ):
            seen += [t["gid"] for t in page]
            assert all("modified_at" in t and "notes" not in t for t in page)
    top_level = [r["gid"] for r in sandbox.expected("asana.tasks") if r["parent_gid"] is None]
    assert sorted(seen) == sorted(top_level)  # subtasks come through their parent only


def test_subtasks_are_listed_under_their_parent_only(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    rows = sandbox.expected("asana.tasks")
    child = next(r for r in rows if r["parent_gid"] is not None)
    listed = [
        t["gid"]
        for page in _walk(api["asana"], f"/tasks/{child['parent_gid']}/subtasks", limit=100)
        for t in page
    ]
    assert child["gid"] in listed
    assert listed == sorted(r["gid"] for r in rows if r["parent_gid"] == child["parent_gid"])


def test_modified_since_returns_only_later_changes(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    rows = sandbox.expected("asana.tasks")
    project = rows[0]["project_gid"]
    stamps = sorted(
        r["modified_at"] for r in rows if r["project_gid"] == project and not r["parent_gid"]
    )
    middle = stamps[len(stamps) // 2]
    data = [
        t
        for page in _walk(
            api["asana"],
            "/tasks",
            project=project,
            limit=100,
            modified_since=middle,
            opt_fields="modified_at",
        )
        for t in page
    ]
    assert data and all(t["modified_at"] > middle for t in data)
    assert len(data) == sum(1 for s in stamps if s > middle)


def test_project_tasks_endpoint_has_no_modified_since(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    project = sandbox.expected("asana.tasks")[0]["project_gid"]
    response = api["asana"].get(
        f"/projects/{project}/tasks", params={"modified_since": "2025-01-01T00:00:00Z", "limit": 5}
    )
    assert response.status_code == 400


def test_a_forged_offset_is_refused(api: dict[str, httpx.Client]) -> None:
    response = api["asana"].get(
        "/users", params={"workspace": WORKSPACE, "limit": 2, "offset": "eyJmb3JnZWQiOnRydWV9"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"].startswith("offset:")


def test_offsets_expire_when_the_data_changes(fresh: Any) -> None:
    sb, api = fresh()
    first = api["asana"].get("/users", params={"workspace": WORKSPACE, "limit": 2}).json()
    offset = first["next_page"]["offset"]
    assert (
        api["asana"]
        .get("/users", params={"workspace": WORKSPACE, "limit": 2, "offset": offset})
        .status_code
        == 200
    )
    sb.mutate()
    stale = api["asana"].get(
        "/users", params={"workspace": WORKSPACE, "limit": 2, "offset": offset}
    )
    assert stale.status_code == 400


def test_a_deleted_task_vanishes_and_answers_404(fresh: Any) -> None:
    sb, api = fresh()
    deleted = sb.mutate()["changes"]["asana.tasks"]["deleted"]
    assert deleted
    response = api["asana"].get(f"/tasks/{deleted[0]}")
    assert response.status_code == 404
    assert deleted[0] in response.json()["errors"][0]["message"]
    assert deleted[0] not in {r["gid"] for r in sb.expected("asana.tasks")}


def test_premium_search_answers_402(api: dict[str, httpx.Client]) -> None:
    response = api["asana"].get(
        f"/workspaces/{WORKSPACE}/tasks/search",
        params={"modified_at.after": "2025-01-01T00:00:00Z"},
    )
    assert response.status_code == 402
    assert response.json()["errors"][0]["message"]
