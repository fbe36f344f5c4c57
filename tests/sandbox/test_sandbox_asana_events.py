"""The Asana fake's event streams: tokens, 412 with a fresh token, deletions, subtasks, paging."""

from __future__ import annotations

from typing import Any

import httpx


def _token(client: httpx.Client, resource: str) -> str:
    """A first call has no token: Asana answers 412 and hands one over."""
    response = client.get("/events", params={"resource": resource})
    assert response.status_code == 412, response.text
    body = response.json()
    assert "too old" in body["errors"][0]["message"]
    return str(body["sync"])


def _events(client: httpx.Client, resource: str, token: str) -> tuple[list[Any], str]:
    """Every event since `token`, following `has_more`; and the token to use next."""
    found: list[Any] = []
    for _ in range(100):
        response = client.get("/events", params={"resource": resource, "sync": token})
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["data"])
        token = body["sync"]
        if not body["has_more"]:
            return found, token
    raise AssertionError("has_more never ended")


def test_a_deleted_task_is_a_deleted_event_on_its_project_stream(fresh: Any) -> None:
    sb, api = fresh()
    tasks = sb.sandbox.data.asana.tasks
    projects = {p: _token(api["asana"], p) for p in sb.sandbox.data.asana.projects}
    change = sb.change_asana("delete_task")
    top, below = change["deleted"][0], change["deleted"][1:]
    on_projects = [e for p, t in projects.items() for e in _events(api["asana"], p, t)[0]]
    # The project carries its own task's deletion; subtasks are on their parent's stream.
    assert [(e["action"], e["resource"]["gid"]) for e in on_projects] == [("deleted", top)]
    assert below and top not in tasks
    assert all(api["asana"].get(f"/tasks/{gid}").status_code == 404 for gid in change["deleted"])


def test_an_edited_subtask_is_an_event_on_its_parent_stream_only(fresh: Any) -> None:
    sb, api = fresh()
    tasks = sb.sandbox.data.asana.tasks
    subtask_parents = sorted({t["_parent"] for t in tasks.values() if t.get("_parent")})
    tokens = {gid: _token(api["asana"], gid) for gid in subtask_parents}
    projects = sorted({tasks[p]["_project"] for p in subtask_parents})
    project_tokens = {p: _token(api["asana"], p) for p in projects}
    change = sb.change_asana("edit_subtask")
    parent = change["parent_gid"]
    events, _ = _events(api["asana"], parent, tokens[parent])
    assert [(e["action"], e["resource"]["gid"]) for e in events] == [("changed", change["gid"])]
    assert events[0]["change"]["field"] == "name"
    for project, token in project_tokens.items():  # subtasks are in no project's stream
        assert _events(api["asana"], project, token)[0] == []


def test_a_token_reads_the_same_events_again_and_moves_on_with_the_next(fresh: Any) -> None:
    sb, api = fresh()
    project = next(iter(sb.sandbox.data.asana.projects))
    token = _token(api["asana"], project)
    sb.mutate()
    first, following = _events(api["asana"], project, token)
    again, _ = _events(api["asana"], project, token)
    assert first == again
    assert _events(api["asana"], project, following)[0] == []


def test_events_come_in_pages_with_has_more(fresh: Any) -> None:
    sb, api = fresh(asana_events_page=2)
    tasks = sb.sandbox.data.asana.tasks
    project = max(
        sb.sandbox.data.asana.projects,
        key=lambda p: sum(1 for t in tasks.values() if t["_project"] == p),
    )
    token = _token(api["asana"], project)
    for _ in range(4):
        sb.mutate()
    pages, seen = 0, []
    for _ in range(100):
        body = api["asana"].get("/events", params={"resource": project, "sync": token}).json()
        assert len(body["data"]) <= 2
        seen.extend(body["data"])
        token, pages = body["sync"], pages + 1
        if not body["has_more"]:
            break
    everything = [e for e in sb.sandbox.data.asana.events.events if project in e.audience]
    assert pages >= 2 and [e["resource"]["gid"] for e in seen] == [
        e.body["resource"]["gid"] for e in everything
    ]


def test_an_expired_token_is_a_412_with_a_fresh_token_that_works(fresh: Any) -> None:
    sb, api = fresh()
    project = next(iter(sb.sandbox.data.asana.projects))
    token = _token(api["asana"], project)
    assert sb.expire_asana_tokens() >= 1
    response = api["asana"].get("/events", params={"resource": project, "sync": token})
    assert response.status_code == 412
    fresh_token = response.json()["sync"]
    assert fresh_token != token
    assert _events(api["asana"], project, fresh_token)[0] == []


def test_a_token_of_another_resource_or_a_missing_resource_is_refused(fresh: Any) -> None:
    sb, api = fresh()
    first, second = list(sb.sandbox.data.asana.projects)[:2]
    token = _token(api["asana"], first)
    assert (
        api["asana"].get("/events", params={"resource": second, "sync": token}).status_code == 412
    )
    assert api["asana"].get("/events").status_code == 400
    assert api["asana"].get("/events", params={"resource": "1"}).status_code == 404
