"""The Slack fake's answers validate against Slack's own OpenAPI schemas (shared/api-specs).

The 2020 spec has known gaps (shared/api-specs/slack/LICENSE-NOTE.md): `minItems: 1` on lists,
no `response_metadata` on history/replies, and `items: [...]` used as "any of". Those three are
adjusted here, nothing else; `additionalProperties: false` stays enforced.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from sophia_cli.sandbox.api.app import SandboxHandle

SPEC = (
    Path(__file__).resolve().parents[3] / "shared" / "api-specs" / "slack" / "openapi-subset.json"
)


def _adjust(node: Any) -> None:
    if isinstance(node, dict):
        node.pop("minItems", None)
        if isinstance(node.get("items"), list):
            node["items"] = {"anyOf": node["items"]}
        for value in node.values():
            _adjust(value)
    elif isinstance(node, list):
        for value in node:
            _adjust(value)


@pytest.fixture(scope="module")
def validator_for() -> Any:
    assert SPEC.is_file(), f"{SPEC} is missing: the shared/ folder sits beside the repository"
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    definitions = copy.deepcopy(spec["definitions"])
    _adjust(definitions)

    def make(method: str) -> jsonschema.Draft4Validator:
        schema = copy.deepcopy(spec["paths"][f"/{method}"]["get"]["responses"]["200"]["schema"])
        _adjust(schema)
        schema.setdefault("properties", {})["response_metadata"] = {
            "$ref": "#/definitions/objs_response_metadata"
        }
        schema["definitions"] = definitions
        return jsonschema.Draft4Validator(schema)

    return make


def _errors(validator: jsonschema.Draft4Validator, body: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:160]}" for e in validator.iter_errors(body)]


def test_every_method_answers_in_the_published_shape(
    api: dict[str, httpx.Client], sandbox: SandboxHandle, validator_for: Any
) -> None:
    slack = api["slack"]
    channels = slack.get("/conversations.list", params={"types": "public_channel,private_channel"})
    member = [c for c in channels.json()["channels"] if c["is_member"]]
    bodies = {
        "auth.test": slack.get("/auth.test").json(),
        "users.list": slack.get("/users.list").json(),
        "conversations.list": channels.json(),
    }
    problems = []
    for method, body in bodies.items():
        problems += [f"{method} {p}" for p in _errors(validator_for(method), body)]
    for channel in member:
        history = slack.get("/conversations.history", params={"channel": channel["id"]}).json()
        problems += [
            f"history {p}" for p in _errors(validator_for("conversations.history"), history)
        ]
        for parent in [m for m in history["messages"] if m.get("reply_count")][:3]:
            thread = slack.get(
                "/conversations.replies", params={"channel": channel["id"], "ts": parent["ts"]}
            ).json()
            problems += [
                f"replies {p}" for p in _errors(validator_for("conversations.replies"), thread)
            ]
    assert problems == []
