"""The response cache in Redis, keyed by the deployment-independent inputs of a request."""

from __future__ import annotations

import hashlib
import json
import logging

from pydantic import BaseModel

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad.models import CompletionRequest
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
    raw_message: dict[str, object] = {}


def cache_key(settings: Settings, request: CompletionRequest) -> str:
    """A key from what decides the answer: messages, temperature, tools, format, max tokens."""
    inputs = {
        "messages": request.messages,
        "temperature": request.temperature,
        "tools": request.tools,
        "response_format": request.response_format,
        "max_tokens": request.max_tokens,
        "capabilities": sorted(request.capabilities),
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
    if settings.squad_cache_ttl_s <= 0:
        return
    try:
        pooled.redis_client(settings).set(
            cache_key(settings, request), answer.model_dump_json(), ex=settings.squad_cache_ttl_s
        )
    except Exception as exc:
        log.warning("squad cache store failed: %s", exc)
