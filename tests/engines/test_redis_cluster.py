"""sophia's Redis uses on a real three-master Redis Cluster (what ElastiCache cluster mode and
Redis Enterprise's OSS cluster API serve): every multi-key script's keys share a hash slot.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import redis
from engines_helpers import Cluster
from redis.exceptions import RedisClusterException

from sophia_cli.core.bi import cache as answers
from sophia_cli.core.bi.answer import Answer
from sophia_cli.core.bi.interpretation import ModelSqlInterpretation
from sophia_cli.core.settings import Settings, load_settings
from sophia_cli.core.squad import budget, cooldown
from sophia_cli.core.squad import cache as squad_cache
from sophia_cli.core.squad.budget import Refusal, Reservation, Scope
from sophia_cli.core.squad.models import RouterOptions
from sophia_cli.core.squad.request import CompletionRequest
from sophia_cli.store import jobs, pooled
from sophia_cli.store import redis as redis_store
from sophia_cli.store.ratelimit import SlidingWindow


@pytest.fixture
def on_cluster(
    cluster: Cluster, stores_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings whose Redis is the cluster (a test database for the spend log)."""
    monkeypatch.setenv("REDIS_URL", cluster.url.replace("?cluster=true", ""))
    monkeypatch.setenv("REDIS_CLUSTER", "true")
    return load_settings()


def _node(cluster: Cluster, index: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=cluster.ports[index])


def test_the_cluster_client_is_chosen_by_the_setting_or_the_url(on_cluster: Settings) -> None:
    url = redis_store.resolve_url(on_cluster)
    assert redis_store.is_cluster_url(url)
    from redis.cluster import RedisCluster

    assert isinstance(redis_store.client_for_url(url), RedisCluster)
    plain = redis_store.node_url(url)
    assert not redis_store.is_cluster_url(plain)
    assert isinstance(redis_store.client_for_url(plain), redis.Redis)


def test_the_cluster_refuses_a_script_whose_keys_span_slots(on_cluster: Settings) -> None:
    client = pooled.redis_client(on_cluster)
    first, second = "sophia-x:a", "sophia-x:b"
    assert client.keyslot(first) != client.keyslot(second)  # type: ignore[attr-defined]
    with pytest.raises((RedisClusterException, redis.ResponseError)):
        client.eval("return redis.call('MGET', KEYS[1], KEYS[2])", 2, first, second)


def test_every_multi_key_scripts_keys_share_one_slot(on_cluster: Settings) -> None:
    client = pooled.redis_client(on_cluster)
    groups = [
        budget.day_keys(on_cluster, date(2026, 11, 29)),
        cooldown._keys(on_cluster, "litellm", "gpt-4o-mini"),
    ]
    for keys in groups:
        assert len({client.cluster_keyslot(key) for key in keys}) == 1, keys  # type: ignore[attr-defined]


def _hold(settings: Settings, usd: float, limit: float) -> Reservation | Refusal:
    return budget.reserve(settings, uuid.uuid4().hex, usd, [Scope("*", limit, "today's")], 60)


def test_budget_admits_holds_and_settles_on_the_cluster(on_cluster: Settings) -> None:
    held = _hold(on_cluster, 0.30, 1.0)
    assert isinstance(held, Reservation)
    status = budget.budget_status(on_cluster)
    assert (status.reserved_usd, status.in_flight) == (0.30, 1)
    budget.settle(on_cluster, held, 0.125)
    status = budget.budget_status(on_cluster)
    assert (status.spent_usd, status.reserved_usd, status.in_flight) == (0.125, 0.0, 0)


def test_budget_refuses_what_the_day_cannot_cover_on_the_cluster(on_cluster: Settings) -> None:
    held = _hold(on_cluster, 0.70, 1.0)
    assert isinstance(held, Reservation)
    budget.settle(on_cluster, held, 0.70)
    refused = _hold(on_cluster, 0.31, 1.0)
    assert isinstance(refused, Refusal)
    assert "left of $1.00" in refused.error.message


def test_concurrent_holds_on_the_cluster_never_overspend(on_cluster: Settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: _hold(on_cluster, 0.10, 1.0), range(30)))
    assert sum(isinstance(r, Reservation) for r in results) == 10


def test_cooldowns_start_count_and_clear_on_the_cluster(on_cluster: Settings) -> None:
    options = RouterOptions(allowed_fails=2, cooldown_s=30)
    assert cooldown.record_failure(on_cluster, options, "litellm", "a") == 0
    assert cooldown.record_failure(on_cluster, options, "litellm", "a") == 30
    assert cooldown.record_failure(on_cluster, options, "aimlapi", "b", retry_after_s=5) == 5
    # One pipeline over deployments whose keys sit in different slots (and nodes).
    left = cooldown.cooling(on_cluster, [("litellm", "a"), ("aimlapi", "b"), ("litellm", "c")])
    assert left[("litellm", "a")] > 25 and 0 < left[("aimlapi", "b")] <= 5
    assert left[("litellm", "c")] == 0
    cooldown.clear(on_cluster, "litellm", "a")
    assert cooldown.remaining_s(on_cluster, "litellm", "a") == 0


def test_the_squad_and_answer_caches_work_on_the_cluster(on_cluster: Settings) -> None:
    request = CompletionRequest(messages=[{"role": "user", "content": "hi"}], max_tokens=5)
    stored = squad_cache.CachedAnswer(
        text="hello", squad="litellm", deployment="a", model="m", tokens_in=1, tokens_out=1
    )
    squad_cache.store(on_cluster, request, stored)
    assert squad_cache.lookup(on_cluster, request) == stored
    answer = Answer(
        answer="42", interpretation=ModelSqlInterpretation(), sql="SELECT 42", columns=["v"],
        rows=[[42]], source="llm", as_of=date(2026, 11, 29),
    )  # fmt: skip
    key = answers.cache_key(on_cluster, "q", "v1")
    answers.put(on_cluster, key, answer)
    got = answers.get(on_cluster, key)
    assert got is not None and got.rows == [[42]] and got.cached


def test_the_rate_limit_window_is_shared_through_the_cluster(on_cluster: Settings) -> None:
    url = redis_store.resolve_url(on_cluster)

    async def hits() -> list[bool]:
        # Two clients, as two replicas would have, on the same subject's key.
        windows = [SlidingWindow(redis_store.async_client_for_url(url, {})) for _ in range(2)]
        key = redis_store.key(on_cluster, "ratelimit", "ask", "alice")
        admitted = [
            (await windows[i % 2].hit(key, limit=3, window_s=60)).admitted for i in range(5)
        ]
        for window in windows:
            await window.close()
        return admitted

    assert asyncio.run(hits()) == [True, True, True, False, False]


def _ids_on_every_node(settings: Settings, per_node: int) -> list[str]:
    """Job ids whose keys land `per_node` times on each master (chosen, not left to chance).

    Each save and load opens its own cluster client (slot discovery included), so forty
    random ids cost seconds to prove what two per node prove.
    """
    client = redis_store.client(settings)
    assert isinstance(client, redis.RedisCluster)
    chosen: dict[str, list[str]] = {}
    try:
        while len(chosen) < 3 or any(len(ids) < per_node for ids in chosen.values()):
            job_id = uuid.uuid4().hex
            key = redis_store.key(settings, "jobs", "sync", job_id)
            node = client.get_node_from_key(key).name
            if len(chosen.setdefault(node, [])) < per_node:
                chosen[node].append(job_id)
    finally:
        client.close()
    return [job_id for ids in chosen.values() for job_id in ids]


def test_sync_job_records_spread_over_every_node(cluster: Cluster, on_cluster: Settings) -> None:
    ids = _ids_on_every_node(on_cluster, per_node=2)
    for job_id in ids:
        jobs.save_job(on_cluster, "sync", job_id, {"status": "running", "id": job_id})
    assert all(jobs.load_job(on_cluster, "sync", job_id) == {"status": "running", "id": job_id}
               for job_id in ids)  # fmt: skip
    prefix = on_cluster.redis_key_prefix + "jobs:sync:"
    per_node = [
        len(list(_node(cluster, i).scan_iter(match=prefix + "*", count=1000)))
        for i in range(len(cluster.ports))
    ]
    assert sum(per_node) == len(ids) and all(count > 0 for count in per_node), per_node


def test_db_status_reports_the_cluster_reachable(
    on_cluster: Settings, sophia: Callable[..., Any]
) -> None:
    import json

    result = sophia("db", "status", "--json")
    stores = {store["store"]: store for store in json.loads(result.stdout)["stores"]}
    assert stores["cache"]["reachable"], stores["cache"]
    assert stores["cache"]["version"] and stores["cache"]["backend"] == "Redis Cluster"
