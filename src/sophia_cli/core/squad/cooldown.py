"""Cooldowns shared through Redis: a deployment that keeps failing is skipped by every process."""

from __future__ import annotations

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad.models import RouterOptions
from sophia_cli.store import pooled
from sophia_cli.store import redis as redis_store


def _key(settings: Settings, kind: str, squad: str, deployment: str) -> str:
    return redis_store.key(settings, "squad", kind, squad, deployment)


def remaining_s(settings: Settings, squad: str, deployment: str) -> float:
    """Seconds left in the deployment's cooldown, 0 when it may be called."""
    ttl_ms = pooled.redis_client(settings).pttl(_key(settings, "cooldown", squad, deployment))
    return max(0, int(ttl_ms)) / 1000


def cooling(settings: Settings, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Cooldown seconds left for many deployments in one round trip."""
    pipe = pooled.redis_client(settings).pipeline(transaction=False)
    for squad, deployment in pairs:
        pipe.pttl(_key(settings, "cooldown", squad, deployment))
    try:
        ttls = pipe.execute()
    except pooled.REDIS_DOWN as exc:  # no Redis, no budget: nothing can be routed safely
        raise pooled.redis_unreachable(settings, exc) from exc
    return {pair: max(0, int(ttl)) / 1000 for pair, ttl in zip(pairs, ttls, strict=True)}


def record_failure(
    settings: Settings,
    options: RouterOptions,
    squad: str,
    deployment: str,
    retry_after_s: float | None = None,
) -> float:
    """Count a failure; returns the cooldown started now (0 when none).

    A provider's Retry-After starts a cooldown of that length at once (capped); otherwise
    `allowed_fails` failures within `cooldown_s` do.
    """
    client = pooled.redis_client(settings)
    if retry_after_s is not None and retry_after_s > 0:
        seconds = min(retry_after_s, options.max_retry_after_s)
    else:
        fails_key = _key(settings, "fails", squad, deployment)
        pipe = client.pipeline()
        pipe.incr(fails_key)
        pipe.expire(fails_key, max(1, int(options.cooldown_s)), nx=True)
        fails = int(pipe.execute()[0])
        if fails < options.allowed_fails:
            return 0.0
        client.delete(fails_key)
        seconds = options.cooldown_s
    client.set(_key(settings, "cooldown", squad, deployment), "1", px=max(1, int(seconds * 1000)))
    return seconds


def clear(settings: Settings, squad: str, deployment: str) -> None:
    """End a deployment's cooldown and forget its failures."""
    pooled.redis_client(settings).delete(
        _key(settings, "cooldown", squad, deployment), _key(settings, "fails", squad, deployment)
    )
