"""Sliding-window rate limits per API bucket, as each vendor publishes them (or faster)."""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

RateLimitMode = Literal["real", "fast", "off"]
SlackRegime = Literal["internal", "limited"]
# Since 2025, apps distributed outside the Slack Marketplace get 1 request per minute and at
# most 15 messages per request on conversations.history and .replies; internal apps keep Tier 3.
LIMITED_PAGE = 15
SLACK_MINUTE_S = 60.0


@dataclass(frozen=True)
class Limit:
    """At most `limit` requests in any `window_s` seconds."""

    limit: int
    window_s: float


LIMITS: dict[str, dict[str, Limit]] = {
    "real": {
        "slack.tier2": Limit(20, 60),
        "slack.tier3": Limit(50, 60),
        "slack.special": Limit(100, 60),
        "hubspot.general": Limit(100, 10),
        "hubspot.search": Limit(5, 1),
        "asana.general": Limit(150, 60),
        "gong.second": Limit(3, 1),
        "gong.daily": Limit(10_000, 86_400),
    },
    "fast": {
        "slack.tier2": Limit(5, 1),
        "slack.tier3": Limit(10, 1),
        "slack.special": Limit(20, 1),
        "hubspot.general": Limit(20, 1),
        "hubspot.search": Limit(5, 1),
        "asana.general": Limit(20, 1),
        "gong.second": Limit(3, 1),
        "gong.daily": Limit(10_000, 86_400),
    },
    "off": {},
}
SLACK_TIERS = {
    "users.list": "slack.tier2",
    "conversations.list": "slack.tier2",
    "conversations.history": "slack.tier3",
    "conversations.replies": "slack.tier3",
}

# (counter name, limit name): Slack counts per method, the others per account or token.
Bucket = tuple[str, str]


def slack_overrides(mode: RateLimitMode, regime: SlackRegime, minute_s: float) -> dict[str, Limit]:
    """Slack's limits on the sandbox's clock, where one Slack minute lasts `minute_s` seconds.

    The limited regime holds history and replies to 1 per minute whatever the mode: it is
    the regime under test, not a storm.
    """
    if minute_s <= 0:
        raise ValueError("a Slack minute must last more than 0 seconds")
    scaled = {
        name: Limit(lim.limit, lim.window_s * minute_s / SLACK_MINUTE_S)
        for name, lim in LIMITS[mode].items()
        if name.startswith("slack.") and mode == "real"
    }
    if regime == "limited":
        scaled["slack.tier3"] = Limit(1, minute_s)
    return scaled


def buckets_for(api: str, path: str) -> list[Bucket]:
    """Which counters a request to `path` (relative to the API's base) spends."""
    if api == "slack":
        method = path.strip("/")
        return [(f"slack:{method}", SLACK_TIERS.get(method, "slack.special"))]
    if api == "hubspot":
        if path.endswith("/search"):
            return [("hubspot:search", "hubspot.search")]
        return [("hubspot:general", "hubspot.general")]
    if api == "asana":
        return [("asana:general", "asana.general")]
    if api == "gong":
        return [("gong:second", "gong.second"), ("gong:daily", "gong.daily")]
    return []


class RateLimiter:
    """Counts accepted requests per bucket; a refused request does not count."""

    def __init__(self, mode: RateLimitMode, overrides: dict[str, Limit] | None = None) -> None:
        if mode not in LIMITS:
            raise ValueError(f"unknown rate-limit mode {mode!r}; use real, fast or off")
        self.mode = mode
        self.limits = {**LIMITS[mode], **(overrides or {})}
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, buckets: list[Bucket], now: float) -> int | None:
        """Record the request and return None, or return the whole seconds to wait."""
        wait = self.acquire_exact(buckets, now)
        return None if wait is None else max(1, math.ceil(wait))

    def acquire_exact(self, buckets: list[Bucket], now: float) -> float | None:
        """Record the request and return None, or return the seconds to wait."""
        with self._lock:
            waits = []
            for counter, limit_name in buckets:
                limit = self.limits.get(limit_name)
                if limit is None:
                    continue
                seen = self._seen.setdefault(counter, deque())
                while seen and seen[0] <= now - limit.window_s:
                    seen.popleft()
                if len(seen) >= limit.limit:
                    waits.append(seen[0] + limit.window_s - now)
            if waits:
                return max(waits)
            for counter, limit_name in buckets:
                if limit_name in self.limits:
                    self._seen.setdefault(counter, deque()).append(now)
            return None

    def remaining(self, counter: str, limit_name: str, now: float) -> tuple[int, Limit] | None:
        """Requests left in the current window (for HubSpot's rate-limit headers)."""
        limit = self.limits.get(limit_name)
        if limit is None:
            return None
        with self._lock:
            seen = self._seen.get(counter, deque())
            used = sum(1 for t in seen if t > now - limit.window_s)
        return max(0, limit.limit - used), limit

    def describe(self) -> dict[str, dict[str, float]]:
        """The limits in force, for `GET /_sandbox/limits`."""
        return {
            name: {"limit": lim.limit, "window_s": lim.window_s}
            for name, lim in sorted(self.limits.items())
        }
