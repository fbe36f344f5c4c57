"""Mutations: deterministic change sets that the APIs and the expected rows both reflect."""

from __future__ import annotations

from typing import Any

from sophia_cli.sandbox.clock import parse_iso


def _changes(sb: Any) -> dict[str, dict[str, list[str]]]:
    return dict(sb.mutate()["changes"])


def _chosen(changes: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    """The records a mutation chose, Slack messages by channel: a message a mutation posts has
    the moment it was posted as its ts (to the microsecond, as in Slack), and a later mutation
    may pick that message again."""
    slack = {kind: [name.split(":")[0] for name in names]
             for kind, names in changes["slack.messages"].items()}  # fmt: skip
    return {**changes, "slack.messages": slack}


def test_same_seed_and_today_change_the_same_ids(fresh: Any) -> None:
    first, _ = fresh(seed=21)
    second, _ = fresh(seed=21)
    assert [_chosen(_changes(first)) for _ in range(2)] == [
        _chosen(_changes(second)) for _ in range(2)
    ]


def test_another_seed_changes_other_ids(fresh: Any) -> None:
    first, _ = fresh(seed=21)
    other, _ = fresh(seed=22)
    assert _changes(first)["hubspot.deals"] != _changes(other)["hubspot.deals"]


def test_every_source_changes_and_counts_follow(fresh: Any) -> None:
    sb, _ = fresh()
    before = sb.counts()["tables"]
    changes = _changes(sb)
    after = sb.counts()
    for table in (
        "hubspot.deals",
        "hubspot.companies",
        "hubspot.contacts",
        "asana.tasks",
        "slack.messages",
        "gong.calls",
    ):
        kinds = changes[table]
        assert kinds["updated"] or kinds["added"], table
        assert after["tables"][table] == before[table] + len(kinds["added"]) - len(
            kinds["deleted"]
        ), table
    assert after["deleted"]["asana.tasks"] == changes["asana.tasks"]["deleted"]


def test_updated_deals_carry_a_modified_time_later_than_all_old_data(fresh: Any) -> None:
    sb, api = fresh()
    old = {r["id"]: r for r in sb.expected("hubspot.deals")}
    newest_before = max(parse_iso(r["updated_at"]) for r in old.values())
    changes = _changes(sb)["hubspot.deals"]
    rows = {r["id"]: r for r in sb.expected("hubspot.deals")}
    for deal_id in changes["updated"]:
        assert rows[deal_id] != old[deal_id]
        assert parse_iso(rows[deal_id]["updated_at"]) > newest_before
    body = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "hs_lastmodifieddate",
                        "operator": "GT",
                        "value": str(int(newest_before.timestamp() * 1000)),
                    }
                ]
            }
        ],
        "limit": 100,
    }
    found = api["hubspot"].post("/crm/v3/objects/deals/search", json=body).json()["results"]
    assert {d["id"] for d in found} == set(changes["updated"]) | set(changes["added"])


def test_archived_deals_leave_search_and_show_in_the_archived_listing(fresh: Any) -> None:
    sb, api = fresh()
    archived = _changes(sb)["hubspot.deals"]["archived"]
    listing = (
        api["hubspot"]
        .get("/crm/v3/objects/deals", params={"archived": "true", "limit": 100})
        .json()["results"]
    )
    assert set(archived) <= {d["id"] for d in listing}
    rows = {r["id"]: r for r in sb.expected("hubspot.deals")}
    assert all(rows[i]["archived"] for i in archived)


def test_slack_new_messages_edits_and_replies_are_visible(fresh: Any) -> None:
    sb, api = fresh()
    changes = _changes(sb)["slack.messages"]
    rows = {f"{r['channel_id']}:{r['ts']}": r for r in sb.expected("slack.messages")}
    added = [rows[i] for i in changes["added"]]
    top = next(r for r in added if r["thread_ts"] is None)
    reply = next(r for r in added if r["thread_ts"] not in (None, r["ts"]))
    history = (
        api["slack"]
        .get("/conversations.history", params={"channel": top["channel_id"], "limit": 50})
        .json()["messages"]
    )
    assert top["ts"] in {m["ts"] for m in history}
    thread = (
        api["slack"]
        .get(
            "/conversations.replies",
            params={"channel": reply["channel_id"], "ts": reply["thread_ts"]},
        )
        .json()["messages"]
    )
    assert thread[-1]["ts"] == reply["ts"]
    assert f"{reply['channel_id']}:{reply['thread_ts']}" in changes["updated"]
    edited = [rows[i] for i in changes["updated"] if "(edited" in rows[i]["text"]]
    assert len(edited) == 2


def test_a_second_mutation_deletes_a_message_the_first_posted(fresh: Any) -> None:
    sb, _ = fresh()
    first = _changes(sb)["slack.messages"]["added"]
    deleted = _changes(sb)["slack.messages"]["deleted"]
    assert deleted and set(deleted) <= set(first)
    remaining = {f"{r['channel_id']}:{r['ts']}" for r in sb.expected("slack.messages")}
    assert not set(deleted) & remaining


def test_late_reply_lands_in_an_old_thread(fresh: Any) -> None:
    sb, api = fresh()
    before = sb.counts()["tables"]["slack.messages"]
    reply = api["control"].post("/late_reply", json={"age_hours": 30}).json()
    assert sb.counts()["tables"]["slack.messages"] == before + 1
    assert float(reply["ts"]) - float(reply["thread_ts"]) > 24 * 3600
    window = (
        api["slack"]
        .get(
            "/conversations.history",
            params={"channel": reply["channel"], "oldest": str(float(reply["thread_ts"]) + 1)},
        )
        .json()
    )
    assert reply["thread_ts"] not in {m["ts"] for m in window["messages"]}
    thread = (
        api["slack"]
        .get(
            "/conversations.replies", params={"channel": reply["channel"], "ts": reply["thread_ts"]}
        )
        .json()["messages"]
    )
    assert thread[-1]["ts"] == reply["ts"]


def test_mutate_over_http_applies_several_mutations(fresh: Any) -> None:
    sb, api = fresh()
    body = api["control"].post("/mutate", json={"count": 2}).json()
    assert [m["mutation"] for m in body["mutations"]] == [1, 2]
    assert api["control"].get("/health").json()["mutations"] == 2
    assert api["control"].post("/mutate", json={"count": 0}).status_code == 400


def test_expected_rows_are_served_and_unknown_tables_are_404(fresh: Any) -> None:
    sb, api = fresh()
    body = api["control"].get("/expected/gong.calls").json()
    assert body["key"] == ["id"] and len(body["rows"]) == sb.counts()["tables"]["gong.calls"]
    assert api["control"].get("/expected/nope.table").status_code == 404
