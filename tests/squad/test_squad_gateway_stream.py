"""Streaming through `sophia serve` with the official client and LangChain's ChatOpenAI.

A stream is settled on its final usage chunk; one that ends without usage, is cut upstream
or is abandoned by the client is charged its reservation and marked as an estimate.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import openai
import pytest
from gateway_helpers import Gateway
from langchain_core.messages import AIMessageChunk
from langchain_openai import ChatOpenAI


def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=gateway.token(), max_retries=0)


def say(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{text} {uuid.uuid4().hex[:6]}"}]


def settled_row(gateway: Gateway, request_id: str, timeout_s: float = 10) -> dict[str, Any]:
    """The request's last spend row once it has left `pending` (books close after the body)."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = gateway.rows("request_id = %s", request_id)
        if rows and rows[-1]["outcome"] != "pending":
            return rows[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"request {request_id} still pending: {rows}")
        time.sleep(0.1)


def cached_answers(gateway: Gateway) -> set[bytes]:
    """The keys of the answers this gateway has stored in its cache."""
    import redis

    client = redis.Redis.from_url(gateway.env["REDIS_URL"])
    try:
        return set(client.scan_iter(f"{gateway.prefix}squad:cache:*"))
    finally:
        client.close()


def test_stream_with_include_usage_ends_with_the_usage_chunk(gateway: Gateway) -> None:
    gateway.provider.script("bargain", {"completion_tokens": 9, "text": "streamed words here"})
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="auto",
        messages=say("stream please"),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed words here"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 9
    row = settled_row(gateway, raw.headers["x-sophia-request-id"])
    assert (row["outcome"], row["estimated"], row["tokens_out"]) == ("ok", False, 9)
    assert float(row["cost_usd"]) == pytest.approx(
        (row["tokens_in"] * 0.1 + 9 * 0.2) / 1e6, abs=1e-8
    )


def test_stream_without_include_usage_still_settles_the_real_cost(gateway: Gateway) -> None:
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="auto", messages=say("no usage for me"), stream=True
    )
    chunks = list(raw.parse())
    assert all(chunk.usage is None for chunk in chunks)  # the client did not ask for it
    row = settled_row(gateway, raw.headers["x-sophia-request-id"])
    assert (row["outcome"], row["estimated"]) == ("ok", False)
    assert 0 < row["cost_usd"] < row["reserved_usd"]


def test_stream_passes_a_length_finish_reason_through(gateway: Gateway) -> None:
    gateway.provider.script("bargain", {"completion_tokens": 100})
    stream = client(gateway).chat.completions.create(
        model="auto", messages=say("long"), stream=True, max_tokens=5
    )
    reasons = [c.choices[0].finish_reason for c in stream if c.choices]
    assert reasons[-1] == "length"


def test_stream_falls_back_until_a_deployment_sends_its_first_chunk(gateway: Gateway) -> None:
    gateway.provider.script("bargain", {"status": 503}, {"status": 503})
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="auto", messages=say("fallback"), stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text == "answer from gpt-4o-mini"  # the next cheapest
    assert raw.headers["x-sophia-deployment"] == "litellm/mini"


def test_stream_abandoned_by_the_client_is_charged_its_reservation(gateway: Gateway) -> None:
    gateway.provider.script(
        "bargain", {"text": "word " * 200, "completion_tokens": 200, "chunk_delay_s": 0.05}
    )
    headers = {"Authorization": f"Bearer {gateway.token()}"}
    body = {"model": "auto", "messages": say("long story"), "stream": True}
    with (
        httpx.Client(timeout=30) as http,
        http.stream(
            "POST", gateway.base_url + "/chat/completions", json=body, headers=headers
        ) as r,
    ):
        request_id = r.headers["x-sophia-request-id"]
        next(r.iter_lines())  # read the first event, then hang up
    row = settled_row(gateway, request_id)
    assert (row["outcome"], row["estimated"]) == ("cut", True)
    assert row["cost_usd"] == row["reserved_usd"] > 0
    assert gateway.provider.bill_usd() <= float(row["cost_usd"])  # the estimate covers the bill


def test_stream_cut_upstream_ends_with_an_error_the_client_raises(gateway: Gateway) -> None:
    gateway.provider.script("bargain", {"text": "a b c d e f g h", "cut_after": 3})
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="auto", messages=say("cut me"), stream=True
    )
    with pytest.raises(openai.APIError, match="upstream stream failed"):
        list(raw.parse())
    row = settled_row(gateway, raw.headers["x-sophia-request-id"])
    assert (row["outcome"], row["estimated"]) == ("cut", True)
    assert row["cost_usd"] == row["reserved_usd"]


def test_stream_that_never_reports_usage_is_charged_its_reservation(gateway: Gateway) -> None:
    gateway.provider.script("bargain", {"no_usage": True})
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="auto", messages=say("quiet provider"), stream=True
    )
    list(raw.parse())
    row = settled_row(gateway, raw.headers["x-sophia-request-id"])
    assert (row["outcome"], row["estimated"]) == ("ok", True)
    assert row["cost_usd"] == row["reserved_usd"]


def test_a_deterministic_stream_is_cached_and_replayed(gateway: Gateway) -> None:
    messages = say("cache this stream")

    def streamed() -> str:
        stream = client(gateway).chat.completions.create(
            model="auto", messages=messages, stream=True, temperature=0
        )
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    stored_before = cached_answers(gateway)
    first = streamed()
    # The answer is stored after the stream has settled, which is after the client has read
    # its last chunk: wait until it is there (however busy the machine), then ask again.
    deadline = time.monotonic() + 30
    while not cached_answers(gateway) - stored_before:
        assert time.monotonic() < deadline, "the streamed answer was never stored in the cache"
        time.sleep(0.05)
    assert streamed() == first and gateway.provider.calls("bargain") == 1


def chat_model(gateway: Gateway, **options: Any) -> ChatOpenAI:
    return ChatOpenAI(
        model="auto",
        base_url=gateway.base_url,
        api_key=gateway.token(),  # type: ignore[arg-type]
        max_retries=0,
        **options,
    )


def test_langchain_invoke_and_stream(gateway: Gateway) -> None:
    gateway.provider.script("bargain", default={"text": "from langchain", "completion_tokens": 3})
    model = chat_model(gateway)
    reply = model.invoke(f"hello {uuid.uuid4().hex[:6]}")
    assert reply.content == "from langchain"
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 3
    pieces = list(model.stream(f"stream {uuid.uuid4().hex[:6]}"))
    assert all(isinstance(piece, AIMessageChunk) for piece in pieces)
    assert "".join(str(piece.content) for piece in pieces) == "from langchain"


def test_langchain_streaming_mode_reports_usage(gateway: Gateway) -> None:
    gateway.provider.script("bargain", default={"text": "streamed for langchain"})
    model = chat_model(gateway, streaming=True, stream_usage=True)
    reply = model.invoke(f"go {uuid.uuid4().hex[:6]}")
    assert reply.content == "streamed for langchain"
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] == 5


def test_langchain_tool_calls_come_back(gateway: Gateway) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup_deal", "arguments": '{"deal_id": "D-42"}'},
    }
    gateway.provider.script("gpt-4o-mini", {"tool_calls": [call]})

    def lookup_deal(deal_id: str) -> str:
        """Look a deal up by its id."""
        return deal_id

    model = chat_model(gateway).bind_tools([lookup_deal], tool_choice="auto")
    reply = model.invoke(f"find deal D-42 {uuid.uuid4().hex[:6]}")
    assert reply.tool_calls == [  # type: ignore[attr-defined]
        {"name": "lookup_deal", "args": {"deal_id": "D-42"}, "id": "call_1", "type": "tool_call"}
    ]
    sent = gateway.provider.last_body("gpt-4o-mini")
    assert sent["tool_choice"] == "auto" and sent["tools"][0]["function"]["name"] == "lookup_deal"
