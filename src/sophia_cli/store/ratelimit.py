"""A sliding-window rate limit kept in Redis, decided atomically by one Lua script.

Every replica and worker calls the same script on the same key, so the limit is shared:
across all of them at most `limit` requests are admitted in any window. The window is a
sorted set of admission times; the clock is Redis's own (`TIME`), so replicas with skewed
clocks still agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio

# KEYS[1] window key; ARGV: limit, window_ms, unique member.
# Returns {admitted (1/0), remaining, ms until a slot frees (0 when admitted and not full)}.
SLIDING_WINDOW_LUA = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  local reset = 0
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if oldest[2] then reset = tonumber(oldest[2]) + window - now end
  return {1, limit - count - 1, reset}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
if wait < 1 then wait = 1 end
return {0, 0, wait}
"""


@dataclass(frozen=True)
class Decision:
    """Whether one request is admitted, and what the client should be told."""

    admitted: bool
    limit: int
    remaining: int
    reset_ms: int  # until the oldest admission leaves the window
    window_s: int

    @property
    def reset_s(self) -> int:
        """Seconds, rounded up, as the RateLimit-Reset and Retry-After headers want."""
        return max(0, -(-self.reset_ms // 1000))


class SlidingWindow:
    """One registered script shared by every call of a process."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self._client = client
        self._script: Any = client.register_script(SLIDING_WINDOW_LUA)

    async def hit(self, key: str, *, limit: int, window_s: int) -> Decision:
        """Count one request against `key`; refuse it when the window is full."""
        result = await self._script(keys=[key], args=[limit, window_s * 1000, uuid.uuid4().hex])
        admitted, remaining, reset_ms = (int(value) for value in result)
        return Decision(bool(admitted), limit, remaining, reset_ms, window_s)

    async def close(self) -> None:
        await self._client.aclose()
