"""The response cache in Redis, keyed by everything that decides the answer.

The key covers the messages, every forwarded parameter, the output limit, the capabilities,
and the squad or model the caller pinned (an answer from the cheap tier is not an answer
from the model someone asked for by name). Only deterministic requests are cached by
default (temperature 0): replaying a sampled answer for an hour is not what a caller of
`temperature: 0.8` expects. A request can always bypass the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from pydantic import BaseModel

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad.models import RouterOptions
from sophia_cli.core.squad.request import CompletionRequest
from sophia_cli.store import pooled
from sophia_cli.store import redis as redis_store

log = logging.getLogger("sophia.squad")


class CachedAnswer(BaseModel):
    """What is stored for a cached answer (its original cost is not charged again)."""

    text: str
    squad: str
    deployment: str
    model: str
    tokens_in: int
    tokens_out: int
    finish_reason: str | None = None
    choices: list[dict[str, Any]] = []
    usage: dict[str, Any] = {}
    upstream_model: str | None = None
    raw_message: dict[str, Any] = {}


def cacheable(settings: Settings, options: RouterOptions, request: CompletionRequest) -> bool:
    """Whether this request may be answered from, and stored in, the cache."""
    if not request.use_cache or settings.squad_cache_ttl_s <= 0:
        return False
    return request.temperature == 0 or options.cache_any_temperature


def cache_key(settings: Settings, request: CompletionRequest) -> str:
    """A key from what decides the answer, including a pinned squad or model."""
    inputs = {
        "messages": request.messages,
        "model": request.model,
        "squad": request.squad,
        "params": request.forwarded(),
        "max_tokens": request.max_tokens,
        "capabilities": sorted(request.needed_capabilities()),
    }
    digest = hashlib.sha256(
        json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
    return redis_store.key(settings, "squad", "cache", digest)


def lookup(settings: Settings, request: CompletionRequest) -> CachedAnswer | None:
    """The cached answer, or None on a miss (or when Redis cannot answer)."""
    try:
        raw = pooled.redis_client(settings).get(cache_key(settings, request))
    except Exception as exc:  # a cache that cannot answer is a miss, not a failure
        log.warning("squad cache lookup failed: %s", exc)
        return None
    if raw is None:
        return None
    try:
        return CachedAnswer.model_validate_json(raw)
    except ValueError:
        return None


def store(settings: Settings, request: CompletionRequest, answer: CachedAnswer) -> None:
    """Keep an answer for SQUAD_CACHE_TTL_S seconds."""
    try:
        pooled.redis_client(settings).set(
            cache_key(settings, request), answer.model_dump_json(), ex=settings.squad_cache_ttl_s
        )
    except Exception as exc:
        log.warning("squad cache store failed: %s", exc)
