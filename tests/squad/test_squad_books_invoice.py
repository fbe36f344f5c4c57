"""The books match the invoice: many concurrent calls through `sophia serve` while the provider
times out and rate-limits, clients give up and hang up on streams, and Redis restarts.

The fake provider bills every generation at its list price whether or not anyone waited for
it; our spend log must hold at least 95 % of that bill, and neither may pass the day's
budget by more than one call's reservation.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from fake_llm import FakeServer
from gateway_helpers import Gateway, running_gateway
from squad_helpers import deployments

from sophia_cli.store import embedded_redis
from sophia_cli.store.databases import create_database, drop_database

CALLS, CONCURRENCY = 320, 24
BUDGET_USD = 0.05
PROVIDER_MIX = [
    {
        "weight": 55,
        "delay_s": 0.05,
        "completion_tokens": 120,
        "text": "word " * 40,
        "chunk_delay_s": 0.02,
    },
    {"weight": 15, "delay_s": 0.4, "completion_tokens": 250},
    {"weight": 10, "delay_s": 3.0, "completion_tokens": 200},  # past the router's timeout
    {"weight": 10, "status": 429, "retry_after": 1},
    {"weight": 5, "status": 503},
    {"weight": 5, "delay_s": 0.1, "completion_tokens": 300, "cached_tokens": 8},
]


@pytest.fixture
def own_redis() -> Iterator[Path]:
    """A Redis (embedded Valkey) of this test's own, so it can be stopped and started."""
    home = Path(tempfile.mkdtemp(prefix="sophia-r-"))
    embedded_redis.ensure_running(home)
    yield home
    embedded_redis.stop(home)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def books_gateway(pg_admin_url: str, warehouse_template: str, own_redis: Path) -> Iterator[Gateway]:
    provider = FakeServer().start()
    tiers = deployments(provider)[:2]  # cheap, then mid
    for tier in tiers:
        provider.price(tier["name"], tier["input_cost_per_mtok"], tier["output_cost_per_mtok"])
        provider.script(tier["name"], default={"mix": PROVIDER_MIX})
    squads = {
        "router": {
            "timeout_s": 2.0, "deadline_s": 6.0, "backoff_s": 0.05, "budget_wait_s": 0.3,
            "cooldown_s": 1.0,
        },
        "squads": {"litellm": {"primary": True, "deployments": tiers}},
    }  # fmt: skip
    url = create_database(pg_admin_url, prefix="sophia_books_", template=warehouse_template)
    home = Path(tempfile.mkdtemp(prefix="sophia-b-"))
    redis_url = embedded_redis.url(own_redis)
    try:
        with running_gateway(
            url, redis_url, home, provider, squads, SQUAD_DAILY_BUDGET_USD=str(BUDGET_USD)
        ) as gateway:
            yield gateway
    finally:
        provider.stop()
        drop_database(pg_admin_url, url)
        shutil.rmtree(home, ignore_errors=True)


async def one_call(gateway: Gateway, index: int, rng: random.Random) -> str:
    """One client call with its own behaviour; returns what the client saw."""
    timeout = 0.3 if rng.random() < 0.1 else 10.0  # some clients give up early
    streaming, hang_up = rng.random() < 0.2, rng.random() < 0.5
    messages = [{"role": "user", "content": f"question {index} {uuid.uuid4().hex[:8]}"}]
    async with openai.AsyncOpenAI(
        base_url=gateway.base_url, api_key=gateway.token(f"caller-{index % 5}"),
        max_retries=0, timeout=timeout,
    ) as client:  # fmt: skip
        try:
            if streaming:
                stream = await client.chat.completions.create(
                    model="auto",
                    messages=messages,
                    max_tokens=300,
                    stream=True,  # type: ignore[arg-type]
                )
                async for _chunk in stream:
                    if hang_up:
                        await stream.close()
                        return "hung_up"
                return "streamed"
            await client.chat.completions.create(
                model="auto",
                messages=messages,
                max_tokens=300,  # type: ignore[arg-type]
            )
            return "ok"
        except openai.APITimeoutError:
            return "client_timeout"
        except openai.APIStatusError as exc:
            return f"http_{exc.status_code}"
        except openai.APIError as exc:
            return f"api_error:{type(exc).__name__}"


async def storm(gateway: Gateway, redis_home: Path) -> Counter[str]:
    rng = random.Random(11)
    limit = asyncio.Semaphore(CONCURRENCY)
    seen: Counter[str] = Counter()

    async def limited(index: int) -> None:
        async with limit:
            seen[await one_call(gateway, index, rng)] += 1

    async def restart_redis() -> None:
        await asyncio.sleep(1.5)  # mid-run, with calls in flight
        await asyncio.to_thread(embedded_redis.stop, redis_home)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(embedded_redis.ensure_running, redis_home)

    await asyncio.gather(restart_redis(), *[limited(i) for i in range(CALLS)])
    return seen


def wait_for_quiet(provider: FakeServer, gateway: Gateway, timeout_s: float = 30) -> None:
    """Every generation billed, and every spend row closed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with provider.state.lock:
            busy = provider.state.in_flight
        if busy == 0 and not gateway.rows("outcome = 'pending'"):
            return
        time.sleep(0.2)
    raise AssertionError("the provider or the books did not settle")


def test_recorded_spend_matches_the_invoice_under_chaos(
    books_gateway: Gateway, own_redis: Path
) -> None:
    gateway, provider = books_gateway, books_gateway.provider
    seen = asyncio.run(storm(gateway, own_redis))
    wait_for_quiet(provider, gateway)
    rows = gateway.rows()
    outcomes = Counter(row["outcome"] for row in rows)
    recorded = sum(float(row["cost_usd"]) for row in rows)
    bill = provider.bill_usd()
    one_reservation = max(float(row["reserved_usd"]) for row in rows)
    summary = f"client saw {dict(seen)}; log {dict(outcomes)}; bill {bill}, recorded {recorded}"
    print(summary)  # shown with -s: the figures behind the assertions

    # Every adversity happened, so the figures below mean something.
    assert {"client_timeout", "hung_up", "http_503"} <= set(seen), summary
    assert seen["http_402"] + seen["http_429"] > 0, summary  # the budget did bind
    assert {"timeout", "cut", "rate_limited", "error", "ok"} <= set(outcomes), summary
    # The books.
    assert recorded >= 0.95 * bill, summary
    assert bill <= BUDGET_USD + one_reservation, summary
    assert recorded <= BUDGET_USD + one_reservation, summary
    log = gateway.server.log.read_text()
    assert "Traceback" not in log, log[log.find("Traceback") - 300 :][:4000]


def test_a_budget_counter_lost_with_redis_is_rebuilt_from_the_books(
    books_gateway: Gateway, own_redis: Path
) -> None:
    gateway, provider = books_gateway, books_gateway.provider
    provider.script("cheap", default={"delay_s": 0.05, "completion_tokens": 40})
    headers = {"Authorization": f"Bearer {gateway.token()}"}

    def spent() -> float:
        response = httpx.get(gateway.base_url + "/squad/budget", headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        return float(response.json()["spent_usd"])

    client = openai.OpenAI(base_url=gateway.base_url, api_key=gateway.token(), max_retries=0)
    for i in range(5):
        client.chat.completions.create(
            model="cheap", messages=[{"role": "user", "content": f"{i}"}]
        )
    before = spent()
    embedded_redis.stop(own_redis)
    with pytest.raises(openai.APIStatusError) as refused:  # no Redis, no budget: fail closed
        client.chat.completions.create(model="cheap", messages=[{"role": "user", "content": "x"}])
    assert refused.value.status_code == 503
    embedded_redis.ensure_running(own_redis)
    assert spent() == pytest.approx(before) == pytest.approx(provider.bill_usd())


def test_no_row_is_lost_when_a_settle_fails(books_gateway: Gateway, own_redis: Path) -> None:
    """Redis dies while a call is at the provider: the answer arrives and the row is kept."""
    gateway, provider = books_gateway, books_gateway.provider
    provider.script("cheap", {"delay_s": 1.5, "completion_tokens": 60})
    client = openai.OpenAI(base_url=gateway.base_url, api_key=gateway.token(), max_retries=0)

    async def call_while_redis_restarts() -> Any:
        async def restart() -> None:
            while provider.calls("cheap") == 0:  # the call is at the provider now
                await asyncio.sleep(0.01)
            await asyncio.to_thread(embedded_redis.stop, own_redis)

        call = asyncio.to_thread(
            client.chat.completions.with_raw_response.create,
            model="cheap",
            messages=[{"role": "user", "content": "slow one"}],
        )
        raw, _ = await asyncio.gather(call, restart())
        return raw

    raw = asyncio.run(call_while_redis_restarts())
    embedded_redis.ensure_running(own_redis)
    assert raw.parse().choices[0].message.content == "answer from cheap"  # paid, so delivered
    (row,) = gateway.rows("request_id = %s", raw.headers["x-sophia-request-id"])
    assert (row["outcome"], row["tokens_out"]) == ("ok", 60)
    assert float(row["cost_usd"]) == pytest.approx(provider.bill_usd())
