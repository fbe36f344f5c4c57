"""Client-side rate limiting that matches how the APIs count: a sliding window.

A token bucket (aiolimiter) lets a full bucket burst again after a fraction of the window,
which a server counting "requests in the last 60 s" answers with 429. This limiter waits
until the oldest of the last `limit` requests has left the window, plus a small margin for
the time a request spends on the wire.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

MARGIN_S = 0.05


class SlidingWindowLimiter:
    """At most `limit` acquisitions in any `window_s` seconds."""

    def __init__(self, limit: int, window_s: float) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window_s > 0")
        self.limit = limit
        self.window_s = window_s
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it."""
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._sent and self._sent[0] <= now - self.window_s - MARGIN_S:
                    self._sent.popleft()
                if len(self._sent) < self.limit:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + self.window_s + MARGIN_S - now)

    def pause(self, seconds: float) -> None:
        """Treat the window as full for `seconds` (the server said Retry-After)."""
        until = time.monotonic() + seconds - self.window_s
        self._sent = deque(max(t, until) for t in self._sent)
        while len(self._sent) < self.limit:
            self._sent.appendleft(until)
