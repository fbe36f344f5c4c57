"""The Gong fake: records/cursor paging, 404 on empty windows, sections on demand, late data."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from sophia_cli.sandbox.api.app import SandboxHandle

WIDE = {"fromDateTime": "2020-01-01T00:00:00Z", "toDateTime": "2030-01-01T00:00:00Z"}


def _get_all(client: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    items, cursor, number = [], None, 0
    while True:
        response = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["records"]["currentPageNumber"] == number
        items += body[key]
        cursor, number = body["records"].get("cursor"), number + 1
        if cursor is None:
            return items


def _post_all(client: httpx.Client, path: str, key: str, body: dict[str, Any]) -> list[Any]:
    items, cursor = [], None
    while True:
        response = client.post(path, json={**body, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        items += response.json()[key]
        cursor = response.json()["records"].get("cursor")
        if cursor is None:
            return items


def test_bad_credentials_are_401_on_calls_and_403_on_users(sandbox: SandboxHandle) -> None:
    wrong = {"Authorization": "Basic " + base64.b64encode(b"key:wrong").decode()}
    base = sandbox.env["GONG_API_BASE"]
    assert httpx.get(base + "/v2/calls", headers=wrong).status_code == 401
    users = httpx.get(base + "/v2/users", headers=wrong)
    assert users.status_code == 403 and isinstance(users.json()["errors"][0], str)


def test_calls_pages_cover_every_visible_call_once(fresh: Any) -> None:
    sb, api = fresh(gong_page_size=7)
    calls = _get_all(api["gong"], "/v2/calls", "calls", **WIDE)
    assert sorted(c["id"] for c in calls) == sorted(r["id"] for r in sb.expected("gong.calls"))
    assert len(calls) > 7
    assert all(isinstance(c["id"], str) and int(c["id"]) > 2**53 for c in calls)


def test_a_cursor_with_a_changed_request_is_refused(fresh: Any) -> None:
    _, api = fresh(gong_page_size=5)
    first = api["gong"].get("/v2/calls", params=WIDE).json()
    changed = api["gong"].get(
        "/v2/calls",
        params={
            **WIDE,
            "fromDateTime": "2021-01-01T00:00:00Z",
            "cursor": first["records"]["cursor"],
        },
    )
    assert changed.status_code == 400


def test_an_empty_window_is_404_with_an_errors_list(api: dict[str, httpx.Client]) -> None:
    response = api["gong"].get(
        "/v2/calls",
        params={"fromDateTime": "2019-01-01T00:00:00Z", "toDateTime": "2019-02-01T00:00:00Z"},
    )
    assert response.status_code == 404
    assert response.json()["errors"] == ["No calls found corresponding to the provided filters"]


def _ids(api: dict[str, httpx.Client], low: str, high: str) -> set[str]:
    response = api["gong"].get("/v2/calls", params={"fromDateTime": low, "toDateTime": high})
    return {c["id"] for c in response.json()["calls"]} if response.status_code == 200 else set()


def test_window_is_from_inclusive_to_exclusive_on_scheduled_time_for_conferences(
    api: dict[str, httpx.Client],
) -> None:
    calls = api["gong"].get("/v2/calls", params=WIDE).json()["calls"]
    meeting = next(c for c in calls if c["direction"] == "Conference")
    assert meeting["scheduled"] < meeting["started"]
    far = "2030-01-01T00:00:00Z"
    assert meeting["id"] in _ids(api, meeting["scheduled"], far)
    assert meeting["id"] not in _ids(api, meeting["started"], far)
    assert meeting["id"] not in _ids(api, "2020-01-01T00:00:00Z", meeting["scheduled"])


def test_window_is_on_the_actual_start_for_phone_calls(api: dict[str, httpx.Client]) -> None:
    calls = api["gong"].get("/v2/calls", params=WIDE).json()["calls"]
    phone = next(c for c in calls if c["direction"] != "Conference")
    assert phone["scheduled"] is None
    assert phone["id"] in _ids(api, phone["started"], "2030-01-01T00:00:00Z")


def test_extensive_adds_parties_only_when_asked(api: dict[str, httpx.Client]) -> None:
    bare = api["gong"].post("/v2/calls/extensive", json={"filter": WIDE}).json()["calls"][0]
    assert set(bare) == {"metaData"}
    full = (
        api["gong"]
        .post(
            "/v2/calls/extensive",
            json={"filter": WIDE, "contentSelector": {"exposedFields": {"parties": True}}},
        )
        .json()
    )
    parties = full["calls"][0]["parties"]
    assert parties and all(p["speakerId"] and p["affiliation"] for p in parties)


def test_empty_call_ids_are_a_400(api: dict[str, httpx.Client]) -> None:
    response = api["gong"].post("/v2/calls/extensive", json={"filter": {"callIds": []}})
    assert response.status_code == 400
    assert "must not be empty" in response.json()["errors"][0]


def test_transcripts_in_batches_give_every_expected_sentence(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    call_ids = [r["id"] for r in sandbox.expected("gong.calls")]
    sentences = []
    for start in range(0, len(call_ids), 25):
        batch = call_ids[start : start + 25]
        response = api["gong"].post("/v2/calls/transcript", json={"filter": {"callIds": batch}})
        if response.status_code == 404:
            continue
        for item in response.json()["callTranscripts"]:
            for mono in item["transcript"]:
                sentences += [
                    (item["callId"], mono["speakerId"], s["start"]) for s in mono["sentences"]
                ]
    wanted = [
        (r["call_id"], r["speaker_id"], r["start_ms"]) for r in sandbox.expected("gong.transcripts")
    ]
    assert sorted(sentences) == sorted(wanted)


def test_late_calls_and_transcripts_appear_after_processing(fresh: Any) -> None:
    sb, api = fresh()
    before = {c["id"] for c in _get_all(api["gong"], "/v2/calls", "calls", **WIDE)}
    hidden_transcripts = [
        c for c in before if c not in {r["call_id"] for r in sb.expected("gong.transcripts")}
    ]
    assert hidden_transcripts
    change = sb.mutate()["changes"]
    after = {c["id"] for c in _get_all(api["gong"], "/v2/calls", "calls", **WIDE)}
    assert set(change["gong.calls"]["added"]) == after - before
    assert len(after - before) >= 2
    ready = (
        api["gong"]
        .post("/v2/calls/transcript", json={"filter": {"callIds": hidden_transcripts}})
        .json()
    )
    assert {t["callId"] for t in ready["callTranscripts"]} == set(hidden_transcripts)


def test_undocumented_fields_appear_so_clients_must_ignore_them(
    api: dict[str, httpx.Client],
) -> None:
    assert "sandboxExtra" in api["gong"].get("/v2/users").json()


def test_another_workspace_has_no_calls(api: dict[str, httpx.Client]) -> None:
    response = api["gong"].post(
        "/v2/calls/extensive", json={"filter": {**WIDE, "workspaceId": "111"}}
    )
    assert response.status_code == 404
