"""Redis: ping and latency."""

from __future__ import annotations

import time

from sophia_cli.core.doctor.embedded import redis_stopped
from sophia_cli.core.doctor.models import Outcome, ok
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.settings import Settings
from sophia_cli.store import redis

_TIMEOUT_S = 3.0


@check("redis", "stores", timeout_s=_TIMEOUT_S + 10)
def redis_ping(settings: Settings) -> Outcome:
    """PING round trip (a stopped embedded server is not started)."""
    if (stopped := redis_stopped(settings)) is not None:
        return stopped
    url = redis.resolve_url(settings)
    client = redis.client_for_url(url, timeout_s=_TIMEOUT_S)
    try:
        started = time.perf_counter()
        client.ping()
        latency = time.perf_counter() - started
    except Exception as exc:  # redis-py raises several unrelated types for "cannot reach"
        raise redis.unreachable(url, exc) from exc
    finally:
        client.close()
    return ok(f"{redis.describe(url)}: PING {latency * 1000:.1f} ms")
