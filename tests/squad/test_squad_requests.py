"""OpenAI request bodies: every parameter forwarded or refused by name; capabilities inferred."""

from __future__ import annotations

from typing import Any

import pytest

from sophia_cli.core.squad.request import FORWARDED, ParameterError, from_openai

USER = [{"role": "user", "content": "hi"}]


def test_every_forwarded_parameter_is_kept_as_sent() -> None:
    body: dict[str, Any] = {name: f"value-of-{name}" for name in FORWARDED}
    body.update(n=2, temperature=0.2, tools=[{"type": "function"}], stop=["x"])
    body.update(response_format={"type": "text"}, functions=[])
    request = from_openai({"model": "auto", "messages": USER, **body})
    assert request.forwarded() == body


@pytest.mark.parametrize("name", ["audio", "modalities", "web_search_options"])
def test_parameters_the_budget_cannot_price_are_refused_by_name(name: str) -> None:
    with pytest.raises(ParameterError) as refused:
        from_openai({"messages": USER, name: {"x": 1}})
    assert refused.value.param == name and refused.value.http_status == 400
    assert refused.value.to_dict()["error"]["param"] == name


def test_a_refused_parameter_sent_as_null_is_ignored() -> None:
    assert from_openai({"messages": USER, "audio": None}).forwarded() == {}


def test_an_unknown_parameter_is_refused_by_name() -> None:
    with pytest.raises(ParameterError, match="unknown parameter colour") as refused:
        from_openai({"messages": USER, "colour": "blue"})
    assert refused.value.param == "colour"


def test_max_completion_tokens_is_kept_under_its_own_name() -> None:
    request = from_openai({"messages": USER, "max_completion_tokens": 99})
    assert (request.max_tokens, request.max_tokens_field) == (99, "max_completion_tokens")
    assert from_openai({"messages": USER}).max_tokens is None  # none invented


def test_stream_options_and_cache_bypass_are_read() -> None:
    request = from_openai(
        {
            "messages": USER,
            "stream": True,
            "stream_options": {"include_usage": True},
            "use_cache": False,
        }
    )
    assert (request.stream, request.include_usage, request.use_cache) == (True, True, False)


def test_capabilities_follow_the_request() -> None:
    image = {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ],
    }
    request = from_openai(
        {
            "messages": [image],
            "response_format": {"type": "json_schema", "json_schema": {"name": "x"}},
            "tools": [{"type": "function", "function": {"name": "f"}}],
            "tool_choice": "none",
        }
    )
    assert request.needed_capabilities() == ["chat", "tools", "json", "vision"]
    assert from_openai({"messages": USER}).needed_capabilities() == ["chat"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"content": "no role"}]}, "messages"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}, "messages"),
        ({"messages": USER, "n": 17}, "n"),
        ({"messages": USER, "n": True}, "n"),
        ({"messages": USER, "temperature": "hot"}, "temperature"),
        ({"messages": USER, "tools": {"not": "a list"}}, "tools"),
        ({"messages": USER, "max_tokens": 0}, "max_tokens"),
        ({"messages": USER, "stream": "yes"}, "stream"),
        ({"messages": USER, "stream_options": "usage"}, "stream_options"),
        ({"messages": USER, "model": ["a"]}, "model"),
        ({"messages": USER, "capabilities": "vision"}, "capabilities"),
    ],
)
def test_malformed_values_are_refused_by_name(body: dict[str, Any], param: str) -> None:
    with pytest.raises(ParameterError) as refused:
        from_openai(body)
    assert refused.value.param == param
