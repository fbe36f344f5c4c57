"""Cooldowns shared through Redis: a deployment that keeps failing is skipped by every process.

A deployment's failure counter and its cooldown flag share one hash tag, and a failure is
counted and (when it is the last one allowed) turned into a cooldown by one script, so two
processes failing at once cannot both miss the threshold and it runs on a Redis Cluster.
"""

from __future__ import annotations

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad.models import RouterOptions
from sophia_cli.store import pooled
from sophia_cli.store import redis as redis_store

# KEYS: fails, cooldown. ARGV: window_ms, allowed_fails, cooldown_ms, retry_after_ms (0: none).
# Returns the cooldown started now in ms (0 when none).
_FAIL = """
local retry_after = tonumber(ARGV[4])
if retry_after > 0 then
  redis.call('SET', KEYS[2], '1', 'PX', retry_after)
  return retry_after
end
local fails = redis.call('INCR', KEYS[1])
if fails == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1])) end
if fails < tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], '1', 'PX', tonumber(ARGV[3]))
return tonumber(ARGV[3])
"""


def _keys(settings: Settings, squad: str, deployment: str) -> list[str]:
    tag = "{" + settings.redis_key_prefix + f"squad:{squad}/{deployment}" + "}"
    return [
        redis_store.key(settings, "squad", "fails", tag),
        redis_store.key(settings, "squad", "cooldown", tag),
    ]


def remaining_s(settings: Settings, squad: str, deployment: str) -> float:
    """Seconds left in the deployment's cooldown, 0 when it may be called."""
    ttl_ms = pooled.redis_client(settings).pttl(_keys(settings, squad, deployment)[1])
    return max(0, int(ttl_ms)) / 1000


def cooling(settings: Settings, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Cooldown seconds left for many deployments in one round trip."""
    pipe = pooled.redis_client(settings).pipeline(transaction=False)
    for squad, deployment in pairs:
        pipe.pttl(_keys(settings, squad, deployment)[1])
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
    """Count a failure; returns the cooldown started now in seconds (0 when none).

    A provider's Retry-After starts a cooldown of that length at once (capped); otherwise
    `allowed_fails` failures within `cooldown_s` do.
    """
    retry_ms = 0
    if retry_after_s is not None and retry_after_s > 0:
        retry_ms = max(1, int(min(retry_after_s, options.max_retry_after_s) * 1000))
    client = pooled.redis_client(settings)
    try:
        started = client.register_script(_FAIL)(
            keys=_keys(settings, squad, deployment),
            args=[
                max(1000, int(options.cooldown_s * 1000)),
                options.allowed_fails,
                max(1, int(options.cooldown_s * 1000)),
                retry_ms,
            ],
        )
    except pooled.REDIS_DOWN:
        return 0.0  # a cooldown is an optimisation; the budget itself still fails closed
    return int(started) / 1000


def clear(settings: Settings, squad: str, deployment: str) -> None:
    """End a deployment's cooldown and forget its failures."""
    pooled.redis_client(settings).delete(*_keys(settings, squad, deployment))
