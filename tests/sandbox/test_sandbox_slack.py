"""The Slack fake answers like the Web API: HTTP 200 errors, cursors, threads, membership."""

from __future__ import annotations

from typing import Any

import httpx

from sophia_cli.sandbox.api.app import SandboxHandle


def _all_pages(client: httpx.Client, method: str, key: str, **params: Any) -> list[list[Any]]:
    pages, cursor = [], ""
    for _ in range(1000):
        body = client.get(f"/{method}", params={**params, "cursor": cursor}).json()
        assert body["ok"], body
        pages.append(body[key])
        cursor = body["response_metadata"]["next_cursor"]
        if cursor == "":
            return pages
    raise AssertionError("paging never ended")


def test_missing_token_is_not_authed_with_http_200(sandbox: SandboxHandle) -> None:
    response = httpx.get(sandbox.env["SLACK_API_BASE"] + "/auth.test")
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": "not_authed"}


def test_wrong_token_is_invalid_auth(sandbox: SandboxHandle) -> None:
    response = httpx.post(
        sandbox.env["SLACK_API_BASE"] + "/users.list",
        headers={"Authorization": "Bearer xoxb-wrong"},
    )
    assert response.status_code == 200
    assert response.json()["error"] == "invalid_auth"


def test_token_form_field_is_accepted(sandbox: SandboxHandle) -> None:
    response = httpx.post(
        sandbox.env["SLACK_API_BASE"] + "/auth.test", data={"token": sandbox.env["SLACK_BOT_TOKEN"]}
    )
    body = response.json()
    assert body["ok"] and body["user_id"] and body["bot_id"]


def test_users_list_pages_cover_every_member_once(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    pages = _all_pages(api["slack"], "users.list", "members", limit=3)
    ids = [m["id"] for page in pages for m in page]
    assert sorted(ids) == sorted(r["id"] for r in sandbox.expected("slack.users"))
    assert len(ids) == len(set(ids))
    assert any(len(page) < 3 for page in pages[:-1])  # Slack may return short pages


def test_conversations_list_shows_private_member_channels_and_refuses_big_limits(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    pages = _all_pages(
        api["slack"],
        "conversations.list",
        "channels",
        limit=4,
        types="public_channel,private_channel",
    )
    channels = [c for page in pages for c in page]
    assert sorted(c["id"] for c in channels) == sorted(
        r["id"] for r in sandbox.expected("slack.channels")
    )
    assert any(c["is_private"] for c in channels)
    assert any(not c["is_member"] for c in channels)
    public_only = _all_pages(api["slack"], "conversations.list", "channels")
    assert not any(c["is_private"] for page in public_only for c in page)
    body = api["slack"].get("/conversations.list", params={"limit": 1000}).json()
    assert body == {"ok": False, "error": "invalid_limit"}


def _channels(api: dict[str, httpx.Client]) -> list[dict[str, Any]]:
    body = (
        api["slack"]
        .get("/conversations.list", params={"types": "public_channel,private_channel"})
        .json()
    )
    return list(body["channels"])


def test_history_pages_newest_first_without_replies(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    channel = next(c for c in _channels(api) if c["name"] == "sales")
    pages = _all_pages(
        api["slack"], "conversations.history", "messages", channel=channel["id"], limit=7
    )
    messages = [m for page in pages for m in page]
    keys = [tuple(map(int, m["ts"].split("."))) for m in messages]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert all(m.get("thread_ts") in (None, m["ts"]) for m in messages)
    assert any(m.get("reply_count", 0) > 0 and m["latest_reply"] for m in messages)
    parents = [
        r
        for r in sandbox.expected("slack.messages")
        if r["channel_id"] == channel["id"] and r["thread_ts"] in (None, r["ts"])
    ]
    assert len(messages) == len(parents)


def test_history_window_is_exclusive_unless_inclusive(api: dict[str, httpx.Client]) -> None:
    channel = next(c for c in _channels(api) if c["name"] == "general")
    newest = (
        api["slack"]
        .get("/conversations.history", params={"channel": channel["id"], "limit": 2})
        .json()["messages"]
    )
    ts = newest[1]["ts"]
    exclusive = (
        api["slack"]
        .get("/conversations.history", params={"channel": channel["id"], "oldest": ts})
        .json()
    )
    inclusive = (
        api["slack"]
        .get(
            "/conversations.history",
            params={"channel": channel["id"], "oldest": ts, "inclusive": "true"},
        )
        .json()
    )
    assert [m["ts"] for m in exclusive["messages"]] == [newest[0]["ts"]]
    assert [m["ts"] for m in inclusive["messages"]] == [newest[0]["ts"], ts]


def test_history_of_a_channel_the_bot_is_not_in_is_not_in_channel(
    api: dict[str, httpx.Client],
) -> None:
    channel = next(c for c in _channels(api) if not c["is_member"])
    body = api["slack"].get("/conversations.history", params={"channel": channel["id"]}).json()
    assert body == {"ok": False, "error": "not_in_channel"}
    missing = api["slack"].get("/conversations.history", params={"channel": "C0NOPE"}).json()
    assert missing["error"] == "channel_not_found"


def test_bad_cursor_and_bad_oldest_are_refused(api: dict[str, httpx.Client]) -> None:
    channel = _channels(api)[0]["id"]
    assert (
        api["slack"]
        .get("/conversations.history", params={"channel": channel, "cursor": "garbage!"})
        .json()["error"]
        == "invalid_cursor"
    )
    assert (
        api["slack"]
        .get("/conversations.history", params={"channel": channel, "oldest": "yesterday"})
        .json()["error"]
        == "invalid_ts_oldest"
    )


def test_replies_give_parent_first_then_replies_ascending_over_pages(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    rows = sandbox.expected("slack.messages")
    parent = max((r for r in rows if r["reply_count"] > 1), key=lambda r: r["reply_count"])
    pages = _all_pages(
        api["slack"],
        "conversations.replies",
        "messages",
        channel=parent["channel_id"],
        ts=parent["ts"],
        limit=2,
    )
    thread = [m for page in pages for m in page]
    assert thread[0]["ts"] == parent["ts"]
    replies = [m["ts"] for m in thread[1:]]
    assert len(replies) == parent["reply_count"] == len(set(replies))
    assert replies == sorted(replies, key=lambda ts: tuple(map(int, ts.split("."))))


def test_replies_of_an_unknown_ts_is_thread_not_found(api: dict[str, httpx.Client]) -> None:
    channel = _channels(api)[0]["id"]
    body = (
        api["slack"]
        .get("/conversations.replies", params={"channel": channel, "ts": "1.000001"})
        .json()
    )
    assert body == {"ok": False, "error": "thread_not_found"}


def test_history_plus_replies_of_member_channels_is_every_expected_message(
    api: dict[str, httpx.Client], sandbox: SandboxHandle
) -> None:
    seen: list[str] = []
    for channel in _channels(api):
        if not channel["is_member"]:
            continue
        for page in _all_pages(
            api["slack"], "conversations.history", "messages", channel=channel["id"], limit=200
        ):
            for message in page:
                seen.append(f"{channel['id']}:{message['ts']}")
                if message.get("reply_count"):
                    thread = (
                        api["slack"]
                        .get(
                            "/conversations.replies",
                            params={"channel": channel["id"], "ts": message["ts"]},
                        )
                        .json()["messages"]
                    )
                    seen += [f"{channel['id']}:{m['ts']}" for m in thread[1:]]
    wanted = [f"{r['channel_id']}:{r['ts']}" for r in sandbox.expected("slack.messages")]
    assert sorted(seen) == sorted(wanted)


def test_a_json_body_that_is_not_an_object_is_an_ok_false_error(sandbox: SandboxHandle) -> None:
    response = httpx.post(
        sandbox.env["SLACK_API_BASE"] + "/auth.test",
        content=b"[1, 2]",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {sandbox.env['SLACK_BOT_TOKEN']}",
        },
    )
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": "invalid_arguments"}
