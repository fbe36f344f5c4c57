"""The per-subject, per-route rate limit every replica shares through Redis."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sophia_cli.core.errors import RateLimitedError, SophiaError
from sophia_cli.core.settings import Settings
from sophia_cli.server.metrics import Metrics
from sophia_cli.store import redis as redis_store
from sophia_cli.store.ratelimit import Decision, SlidingWindow

if TYPE_CHECKING:
    from fastapi import Request

log = logging.getLogger("sophia.server")
WINDOW_S = 60


class RateLimiter:
    """Admits or refuses requests; RATE_LIMIT_PER_MINUTE per subject and route."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.limit = settings.rate_limit_per_minute
        self._window: SlidingWindow | None = None
        self._breaker = redis_store.Breaker()

    async def _sliding_window(self) -> SlidingWindow:
        # Created on first use, inside the serving event loop (the client is bound to it).
        if self._window is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from starlette.concurrency import run_in_threadpool

            url = await run_in_threadpool(redis_store.resolve_url, self.settings)
            options = redis_store.connection_options(redis_store.REQUEST_PATH_TIMEOUT_S)
            options["retry"] = Retry(NoBackoff(), 1, (redis.ConnectionError,))
            client = redis_store.async_client_for_url(url, options)
            self._window = SlidingWindow(client)
        return self._window

    async def check(self, request: Request, subject: str, route: str) -> Decision | None:
        """Count this request; raise RateLimitedError when the subject's window is full.

        When Redis fails the request is admitted (and counted in metrics): an outage of the
        cache must not take the API down with it. After a failure Redis is skipped for a
        second, so a hung Redis costs one short timeout, not one per request.
        """
        import redis

        if self.limit <= 0:  # RATE_LIMIT_PER_MINUTE=0 turns the limit off
            return None
        if self._breaker.is_open:
            self.metrics.rate_limit_errors.inc()
            return None
        key = redis_store.key(self.settings, "ratelimit", route, subject)
        try:
            window = await self._sliding_window()
            decision = await window.hit(key, limit=self.limit, window_s=WINDOW_S)
        except (redis.RedisError, OSError, SophiaError) as exc:
            self._breaker.trip()
            self.metrics.rate_limit_errors.inc()
            log.warning("rate limit skipped, Redis failed: %s", type(exc).__name__)
            return None
        request.state.rate_limit = decision
        if not decision.admitted:
            self.metrics.rate_limited.labels(route).inc()
            raise RateLimitedError(
                f"rate limit of {decision.limit} requests per {WINDOW_S}s reached for {route}",
                retry_after_s=decision.reset_ms / 1000,
            )
        return decision

    async def close(self) -> None:
        if self._window is not None:
            await self._window.close()
            self._window = None
