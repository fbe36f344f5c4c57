"""The Slack fake answers in the shapes Slack publishes (docs/api-facts/slack-web-api.schema.json).

The schema is the repository's own description of the five methods sync calls; what it
relaxes from Slack's published description, and why, is in docs/api-facts/slack-web-api.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource

from sophia_cli.sandbox.api.app import SandboxHandle

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "api-facts" / "slack-web-api.schema.json"


@pytest.fixture(scope="module")
def validator_for() -> Any:
    document = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(document)
    registry: Registry[Any] = Registry().with_resource(
        document["$id"], Resource.from_contents(document)
    )

    def make(method: str) -> jsonschema.Draft202012Validator:
        ref = {"$ref": f"{document['$id']}#/$defs/methods/{method}"}
        return jsonschema.Draft202012Validator(ref, registry=registry)

    return make


def _errors(validator: jsonschema.Draft202012Validator, body: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:160]}" for e in validator.iter_errors(body)]


def test_every_method_answers_in_the_published_shape(
    api: dict[str, httpx.Client], sandbox: SandboxHandle, validator_for: Any
) -> None:
    slack = api["slack"]
    channels = slack.get("/conversations.list", params={"types": "public_channel,private_channel"})
    member = [c for c in channels.json()["channels"] if c["is_member"]]
    bodies = {
        "auth.test": [slack.get("/auth.test").json()],
        "users.list": [
            slack.get("/users.list").json(),
            slack.get("/users.list", params={"limit": 5}).json(),
        ],
        "conversations.list": [channels.json()],
        "conversations.history": [],
        "conversations.replies": [],
    }
    for channel in member:
        history = slack.get("/conversations.history", params={"channel": channel["id"]}).json()
        bodies["conversations.history"].append(history)
        for parent in [m for m in history["messages"] if m.get("reply_count")][:3]:
            thread = slack.get(
                "/conversations.replies", params={"channel": channel["id"], "ts": parent["ts"]}
            ).json()
            bodies["conversations.replies"].append(thread)
    assert all(bodies.values()), "every method must have been exercised"
    problems = [
        f"{method} {problem}"
        for method, answers in bodies.items()
        for body in answers
        for problem in _errors(validator_for(method), body)
    ]
    assert problems == []


def test_the_schema_rejects_a_field_slack_does_not_send(
    api: dict[str, httpx.Client], validator_for: Any
) -> None:
    body = api["slack"].get("/users.list", params={"limit": 2}).json()
    body["members"][0]["profile"]["favourite_colour"] = "teal"
    body["members"][1]["nickname"] = "Sam"
    problems = _errors(validator_for("users.list"), body)
    assert len(problems) == 2
    assert all("Additional properties" in p for p in problems)


def test_the_schema_rejects_a_malformed_timestamp(
    api: dict[str, httpx.Client], validator_for: Any
) -> None:
    channels = api["slack"].get("/conversations.list").json()["channels"]
    channel = next(c for c in channels if c["is_member"])
    body = api["slack"].get("/conversations.history", params={"channel": channel["id"]}).json()
    body["messages"][0]["ts"] = "1700000000.5"
    assert any("does not match" in p for p in _errors(validator_for("conversations.history"), body))
