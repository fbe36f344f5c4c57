"""Answers cached in Redis, keyed by the structured query and the data version.

The data version moves whenever a sync records a stream starting, finishing, failing or being
abandoned (a sequence moved by a trigger on `sophia.sync_runs`, migration 0014), so a sync makes
every earlier key unreachable, even one that wrote pages and then failed; TTL
(ASK_CACHE_TTL_S) cleans them up. Redis being down never
fails a question: the cache is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import redis as redis_lib

from sophia_cli.core.bi.answer import Answer
from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import redis

log = logging.getLogger("sophia.ask")

# One row, read through indexes: the epoch and the database name tell warehouses apart (a
# clone of a template or a restored dump keeps the epoch and the count), the sequence counts
# every run record written, and the latest finish (an index lookup) tells two copies apart
# once either syncs.
DATA_VERSION_SQL = """
SELECT e.epoch || '/' || current_database() || '/' || v.last_value::text || '/'
       || v.is_called::text || '/'
       || coalesce((SELECT max(finished_at) FROM sophia.sync_runs)::text, 'never')
FROM sophia.data_epoch e, sophia.data_version v
"""


def cache_key(settings: Settings, *parts: str) -> str:
    """The Redis key of an answer for these parts (query digest, as-of, version, layer)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
    return redis.key(settings, "ask", "answer", digest)


_CLIENTS: dict[str, redis_lib.Redis] = {}
# Skips Redis for a moment after it failed: a question must not wait on a hung cache.
_BREAKER = redis.Breaker()


def _client(settings: Settings) -> redis_lib.Redis:
    """One client (and connection pool) per Redis URL for the life of the process."""
    url = redis.resolve_url(settings)
    if url not in _CLIENTS:
        _CLIENTS[url] = redis.client_for_url(url, timeout_s=redis.REQUEST_PATH_TIMEOUT_S)
    return _CLIENTS[url]


def _read(settings: Settings, key: str) -> bytes | str | None:
    """The raw value, or None when absent, when the breaker is open or when Redis fails."""
    if _BREAKER.is_open:
        return None
    try:
        raw: bytes | str | None = _client(settings).get(key)
    except (redis_lib.RedisError, ServiceUnavailableError, OSError) as exc:
        _BREAKER.trip()
        log.debug("answer cache unavailable: %s", exc)
        return None
    return raw


def _write(settings: Settings, key: str, value: str) -> None:
    """Store for ASK_CACHE_TTL_S seconds; failures trip the breaker and are logged, not raised."""
    if _BREAKER.is_open:
        return
    try:
        _client(settings).set(key, value, ex=settings.ask_cache_ttl_s)
    except (redis_lib.RedisError, ServiceUnavailableError, OSError) as exc:
        _BREAKER.trip()
        log.debug("answer cache unavailable: %s", exc)


def get(settings: Settings, key: str) -> Answer | None:
    """The cached answer, or None (also when Redis is unreachable)."""
    raw = _read(settings, key)
    if raw is None:
        return None
    try:
        answer = Answer.model_validate_json(raw)
    except ValueError:
        return None
    answer.cached = True
    return answer


def put(settings: Settings, key: str, answer: Answer) -> None:
    """Store an answer for ASK_CACHE_TTL_S seconds; failures are logged, not raised."""
    _write(settings, key, answer.model_dump_json())


def get_json(settings: Settings, key: str) -> Any | None:
    """A cached JSON document (the names used for matching), or None."""
    raw = _read(settings, key)
    try:
        return json.loads(raw) if raw is not None else None
    except ValueError:
        return None


def put_json(settings: Settings, key: str, value: Any) -> None:
    """Store a JSON document for ASK_CACHE_TTL_S seconds; failures are logged, not raised."""
    _write(settings, key, json.dumps(value))
