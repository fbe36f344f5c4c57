"""The official `openai` client against `sophia serve`: chat, pinning, parameters, embeddings.

A real `sophia serve` process sits in front of a loopback fake provider that keeps its own
bill; the client is the official OpenAI SDK, sync and async, exactly as a product would use it.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import uuid
from typing import Any

import httpx
import openai
import psycopg
import pytest
from fake_llm import count_tokens
from gateway_helpers import Gateway


def client(gateway: Gateway, sub: str = "tester") -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=gateway.token(sub), max_retries=0)


def say(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{text} {uuid.uuid4().hex[:6]}"}]


def test_auto_routes_to_the_cheapest_deployment_across_squads(gateway: Gateway) -> None:
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="auto", messages=say("hello")
    )
    reply = raw.parse()
    assert reply.choices[0].message.content == "answer from bargain"
    assert raw.headers["x-sophia-deployment"] == "aimlapi/bargain"  # 10x cheaper than cheap
    assert reply.model == "bargain"


@pytest.mark.parametrize(
    ("model", "answered_by"),
    [
        ("big", "big"),  # a deployment
        ("litellm/cheap", "cheap"),  # squad/deployment
        ("litellm", "gpt-4o-mini"),  # a squad: its cheapest (mini, from the price map)
        ("gpt-4o-mini", "gpt-4o-mini"),  # a model id
        ("openai/gpt-4o-mini", "gpt-4o-mini"),  # the LiteLLM id
    ],
)
def test_model_pins_a_deployment_squad_or_model(
    gateway: Gateway, model: str, answered_by: str
) -> None:
    reply = client(gateway).chat.completions.create(model=model, messages=say("pin"))
    assert reply.choices[0].message.content == f"answer from {answered_by}"
    assert gateway.provider.calls(answered_by) == 1


def test_unknown_model_is_a_404_the_client_understands(gateway: Gateway) -> None:
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client(gateway).chat.completions.create(model="gpt-7-turbo", messages=say("x"))


def test_upstream_finish_reason_and_usage_are_returned_as_is(gateway: Gateway) -> None:
    gateway.provider.script("bargain", {"completion_tokens": 50, "cached_tokens": 4})
    messages = say("count to fifty")
    reply = client(gateway).chat.completions.create(model="auto", messages=messages, max_tokens=7)
    assert reply.choices[0].finish_reason == "length"  # not rewritten to "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (
        count_tokens(messages),
        7,
    )
    assert reply.usage.prompt_tokens_details is not None
    assert reply.usage.prompt_tokens_details.cached_tokens == 4


def test_no_max_tokens_is_invented_when_the_client_sends_none(gateway: Gateway) -> None:
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="cheap", messages=say("no limit")
    )
    body = gateway.provider.last_body("cheap")
    assert "max_tokens" not in body and "max_completion_tokens" not in body
    (row,) = gateway.rows("request_id = %s", raw.headers["x-sophia-request-id"])
    assert float(row["reserved_usd"]) >= 4096 * 2.0 / 1e6  # the output limit was reserved


def test_every_openai_parameter_reaches_the_provider(gateway: Gateway) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": "Look a deal up",
                "parameters": {"type": "object", "properties": {"id": {"type": "string"}}},
            },
        }
    ]
    sent = {
        "tools": tools,
        "tool_choice": "none",
        "parallel_tool_calls": False,
        "response_format": {"type": "json_object"},
        "stop": ["\n\n", "END"],
        "seed": 42,
        "top_p": 0.5,
        "n": 2,
        "user": "end-user-7",
        "logprobs": True,
        "top_logprobs": 2,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "logit_bias": {"50256": -100},
        "temperature": 0.3,
        "max_completion_tokens": 30,
    }
    reply = client(gateway).chat.completions.create(
        model="big", messages=say("Answer in JSON"), **sent
    )
    body = gateway.provider.last_body("big")
    assert {name: body.get(name) for name in sent} == sent
    assert [choice.index for choice in reply.choices] == [0, 1]  # n=2 came back whole


def test_a_parameter_the_squad_cannot_honour_is_a_400_naming_it(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client(gateway).chat.completions.create(
            model="auto", messages=say("speak"), modalities=["text", "audio"]
        )
    assert refused.value.body["param"] == "modalities"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError, match="unknown parameter colour"):
        client(gateway).chat.completions.create(
            model="auto", messages=say("x"), extra_body={"colour": "blue"}
        )
    assert gateway.provider.calls("bargain") == 0


def test_capabilities_are_inferred_from_the_request(gateway: Gateway) -> None:
    image = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ],
    }
    raw = client(gateway).chat.completions.with_raw_response.create(model="auto", messages=[image])
    assert raw.headers["x-sophia-deployment"] == "litellm/mini"  # bargain and cheap lack vision
    raw = client(gateway).chat.completions.with_raw_response.create(
        model="auto", messages=say("json please"), response_format={"type": "json_object"}
    )
    assert raw.headers["x-sophia-deployment"] == "litellm/mini"


def test_a_pinned_deployment_without_the_capability_is_refused(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError, match="no deployment offers"):
        client(gateway).chat.completions.create(
            model="bargain", messages=say("x"), response_format={"type": "json_object"}
        )


def test_caller_and_feature_tag_are_in_the_spend_log(gateway: Gateway) -> None:
    tagged = client(gateway, sub="reports-service").with_options(
        default_headers={"X-Sophia-Feature": "weekly-digest"}
    )
    tagged.chat.completions.create(model="auto", messages=say("digest"))
    (row,) = gateway.rows("caller = %s", "reports-service")
    assert (row["feature"], row["requested_model"], row["outcome"]) == (
        "weekly-digest",
        "auto",
        "ok",
    )
    assert row["baseline_usd"] > row["cost_usd"] > 0


def test_a_malformed_feature_tag_is_a_400(gateway: Gateway) -> None:
    bad = client(gateway).with_options(default_headers={"X-Sophia-Feature": "no spaces please"})
    with pytest.raises(openai.BadRequestError, match="X-Sophia-Feature"):
        bad.chat.completions.create(model="auto", messages=say("x"))


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "auto"}, "messages"),
        ({"model": "auto", "messages": "hi"}, "messages"),
        ({"model": "auto", "messages": [{"content": "no role"}]}, "messages"),
        ({"model": 7, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"messages": [{"role": "user", "content": "x"}], "n": 0}, "n"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": -1}, "max_tokens"),
        ({"messages": [{"role": "user", "content": "x"}], "stream": "yes"}, "stream"),
    ],
)
def test_malformed_bodies_are_400s_naming_the_field(
    gateway: Gateway, body: dict[str, object], param: str
) -> None:
    response = httpx.post(
        gateway.base_url + "/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {gateway.token()}"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_a_body_that_is_not_json_is_a_400(gateway: Gateway) -> None:
    response = httpx.post(
        gateway.base_url + "/chat/completions",
        content=b"{not json",
        headers={"Authorization": f"Bearer {gateway.token()}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400 and "not valid JSON" in response.text


def test_async_client_runs_many_calls_at_once(gateway: Gateway) -> None:
    gateway.provider.script("bargain", default={"delay_s": 0.5})

    async def run() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=gateway.base_url, api_key=gateway.token(), max_retries=0
        ) as aclient:
            replies = await asyncio.gather(
                *[
                    aclient.chat.completions.create(model="auto", messages=say(f"q{i}"))
                    for i in range(40)
                ]
            )
        return [r.choices[0].message.content or "" for r in replies]

    assert asyncio.run(run()) == ["answer from bargain"] * 40
    assert gateway.provider.state.peak_in_flight >= 20  # one worker, calls in flight together


def test_models_lists_what_model_may_name(gateway: Gateway) -> None:
    ids = [model.id for model in client(gateway).models.list()]
    assert {"auto", "litellm", "aimlapi", "cheap", "litellm/cheap", "bargain", "embed"} <= set(ids)
    assert client(gateway).models.retrieve("litellm/big").owned_by == "litellm"
    with pytest.raises(openai.NotFoundError):
        client(gateway).models.retrieve("nothing-here")


def test_embeddings_answer_the_official_client_in_base64_and_floats(gateway: Gateway) -> None:
    texts = ["pipeline review", "churn risk"]
    default = client(gateway).embeddings.create(model="embed", input=texts)  # asks for base64
    floats = client(gateway).embeddings.create(model="embed", input=texts, encoding_format="float")
    assert [len(item.embedding) for item in default.data] == [8, 8]
    assert [item.embedding for item in default.data] == [item.embedding for item in floats.data]
    direct = httpx.post(
        gateway.provider.url + "/embeddings",
        json={"model": "text-embedding-3-small", "input": texts},
        headers={"Authorization": "Bearer sk-x"},
    ).json()
    expected = [struct.unpack("<8f", struct.pack("<8f", *d["embedding"])) for d in direct["data"]]
    assert [tuple(item.embedding) for item in floats.data] == [tuple(v) for v in expected]
    assert default.usage.prompt_tokens == sum(count_tokens(t) for t in texts)
    rows = gateway.rows("kind = 'embedding'")
    assert len(rows) == 2 and all(r["outcome"] == "ok" and r["cost_usd"] > 0 for r in rows)


def test_embeddings_refuse_token_arrays_and_chat_models(gateway: Gateway) -> None:
    with pytest.raises(openai.BadRequestError, match="token-id arrays"):
        client(gateway).embeddings.create(model="embed", input=[[1, 2, 3]])
    with pytest.raises(openai.BadRequestError, match="no deployment offers"):
        client(gateway).embeddings.create(model="cheap", input="x")


def test_embedding_dimensions_are_forwarded(gateway: Gateway) -> None:
    reply = client(gateway).embeddings.create(model="embed", input="short", dimensions=4)
    assert len(reply.data[0].embedding) == 4
    vector = base64.b64encode(struct.pack("<4f", *reply.data[0].embedding))
    assert vector  # round-trips as float32, as the official client decodes it


def test_an_exhausted_budget_is_a_402_and_a_busy_one_a_429_with_retry_after(
    gateway: Gateway,
) -> None:
    from sophia_cli.core.squad import budget
    from sophia_cli.core.squad.budget import Reservation, Scope

    settings = gateway_settings(gateway)
    day = Scope("*", 100.0, "today's")
    room = budget.budget_status(settings).remaining_usd - 1e-6
    held = budget.reserve(settings, uuid.uuid4().hex, room, [day], 60)
    assert isinstance(held, Reservation)
    try:
        raw = httpx.post(
            gateway.base_url + "/chat/completions",
            json={"model": "big", "messages": say("busy")},
            headers={"Authorization": f"Bearer {gateway.token()}"},
            timeout=30,
        )
        assert raw.status_code == 429 and raw.json()["error"]["code"] == "budget_busy"
        assert int(raw.headers["retry-after"]) >= 1
        budget.settle(settings, held, room)  # now it is spent, not held
        with pytest.raises(openai.APIStatusError) as spent:
            client(gateway).chat.completions.create(model="big", messages=say("spent"))
        assert spent.value.status_code == 402
        assert spent.value.body["code"] == "budget_exceeded"  # type: ignore[index]
    finally:
        _clear_budget(gateway)


def test_everything_cooling_down_is_a_503_with_the_shortest_wait(gateway: Gateway) -> None:
    from sophia_cli.core.squad import cooldown
    from sophia_cli.core.squad.models import RouterOptions

    settings = gateway_settings(gateway)
    cooldown.record_failure(settings, RouterOptions(), "aimlapi", "bargain", retry_after_s=40)
    raw = httpx.post(
        gateway.base_url + "/chat/completions",
        json={"model": "bargain", "messages": say("cooling")},
        headers={"Authorization": f"Bearer {gateway.token()}"},
        timeout=30,
    )
    assert raw.status_code == 503 and raw.json()["error"]["code"] == "cooling_down"
    assert 35 <= int(raw.headers["retry-after"]) <= 40


def test_metrics_count_attempts_fallbacks_cooldowns_and_budget_left(gateway: Gateway) -> None:
    gateway.provider.script("bargain", {"status": 429, "retry_after": 30})
    client(gateway).chat.completions.create(model="auto", messages=say("metrics"))
    text = httpx.get(gateway.server.url + "/metrics", timeout=10).text
    assert (
        'sophia_squad_attempts_total{deployment="bargain",outcome="rate_limited",squad="aimlapi"}'
        in text
    )
    assert 'sophia_squad_fallbacks_total{deployment="bargain",squad="aimlapi"}' in text
    assert 'sophia_squad_cooldowns_total{deployment="bargain",squad="aimlapi"}' in text
    assert 'sophia_squad_attempt_duration_seconds_count{deployment="mini",squad="litellm"}' in text
    assert "sophia_squad_budget_remaining_usd" in text


def gateway_settings(gateway: Gateway) -> Any:
    from sophia_cli.core.settings import Settings

    return Settings(
        database_url=gateway.database_url,  # type: ignore[arg-type]
        redis_url=gateway.env["REDIS_URL"],  # type: ignore[arg-type]
        redis_key_prefix=gateway.prefix,
    )


def _clear_budget(gateway: Gateway) -> None:
    import redis

    from sophia_cli.core.squad import budget

    connection = redis.Redis.from_url(gateway.env["REDIS_URL"])
    connection.delete(*budget.day_keys(gateway_settings(gateway), budget.today()))
    with psycopg.connect(gateway.database_url) as conn:
        conn.execute("DELETE FROM sophia.llm_calls")
    connection.close()
