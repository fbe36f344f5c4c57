"""Redis connections: REDIS_URL when set, else the embedded Valkey server.

redis-py is imported where a client is made, not at the top: modules that only need a key
or a URL from here (and every PostgreSQL-only command) must not pay its ~40 ms import.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sophia_cli.core import urls
from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import embedded_redis

if TYPE_CHECKING:
    import redis

SOCKET_TIMEOUT_S = 5.0
# Requests that only use Redis as a cache or a counter must not wait long for it.
REQUEST_PATH_TIMEOUT_S = 0.5
HEALTH_CHECK_INTERVAL_S = 10
CLUSTER_FLAG = "cluster"
_TRUE = ("1", "true", "yes", "on")


def connection_options(timeout_s: float) -> dict[str, Any]:
    """Timeouts and retries for every client.

    A connection that broke (Redis restarted) is replaced and the command retried once; a
    timeout is never retried (a hung Redis would cost several timeouts per command, which
    redis-py's default retry policy does), and a connection idle for a while is checked
    with PING before it is used again.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        "health_check_interval": HEALTH_CHECK_INTERVAL_S,
    }


class Breaker:
    """After Redis failed, skip it for `cooldown_s`, so requests do not each pay a timeout.

    For uses that can do without Redis (the answer cache, rate limits that fail open): one
    request finds out Redis is down, the next ones within the cooldown do not ask.
    """

    def __init__(self, cooldown_s: float = 1.0) -> None:
        self.cooldown_s = cooldown_s
        self._until = 0.0

    @property
    def is_open(self) -> bool:
        return time.monotonic() < self._until

    def trip(self) -> None:
        self._until = time.monotonic() + self.cooldown_s


def is_embedded(settings: Settings) -> bool:
    return settings.redis_url is None


def resolve_url(settings: Settings) -> str:
    """The Redis URL to use, starting the embedded server when REDIS_URL is unset.

    REDIS_CLUSTER=true is carried on the URL as `?cluster=true`, so every client made
    from the URL alone (the cache, the rate limiter) picks the cluster client too.
    """
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        if settings.redis_cluster and not is_cluster_url(url):
            parts = urlsplit(url)
            query = urlencode([*parse_qsl(parts.query), (CLUSTER_FLAG, "true")])
            url = urlunsplit(parts._replace(query=query))
        return url
    return embedded_redis.ensure_running(settings.home)


def is_cluster_url(url: str) -> bool:
    """Whether the URL asks for the cluster client (`?cluster=true`)."""
    query = dict(parse_qsl(urlsplit(url).query))
    return query.get(CLUSTER_FLAG, "").lower() in _TRUE


def node_url(url: str) -> str:
    """The URL without sophia's cluster flag (redis-py would take it for an option)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != CLUSTER_FLAG]
    return urlunsplit(parts._replace(query=urlencode(query)))


def describe(url: str) -> str:
    """Where a Redis URL points, without credentials."""
    if urls.problem(url) is not None:
        return urls.describe(url)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"socket {parts.path}"
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


def client(settings: Settings, *, timeout_s: float = SOCKET_TIMEOUT_S) -> redis.Redis:
    """A client that raises ServiceUnavailableError on first use if Redis is down."""
    return client_for_url(resolve_url(settings), timeout_s=timeout_s)


def client_for_url(url: str, *, timeout_s: float = SOCKET_TIMEOUT_S) -> redis.Redis:
    """A client for an explicit URL."""
    import redis

    hint = "Use redis://host:6379/0 or rediss:// for TLS; unset it to use embedded Valkey."
    if (reason := urls.problem(url)) is not None:
        raise ServiceUnavailableError(f"REDIS_URL is malformed: {reason}", hint=hint)
    try:
        if is_cluster_url(url):
            from redis.cluster import RedisCluster

            # The cluster client speaks the same commands sophia uses (every multi-key
            # script's keys share a hash tag), so callers keep one type.
            return cast(
                redis.Redis, RedisCluster.from_url(node_url(url), **connection_options(timeout_s))
            )
        return redis.Redis.from_url(url, **connection_options(timeout_s))
    except ValueError as exc:
        reason = urls.scrub(str(exc), url)
        raise ServiceUnavailableError(
            f"REDIS_URL is not a valid Redis URL: {reason}", hint=hint
        ) from exc


def async_client_for_url(url: str, options: dict[str, Any]) -> Any:
    """An asyncio client (redis.asyncio.Redis, or its RedisCluster for a cluster URL)."""
    import redis.asyncio

    if is_cluster_url(url):
        from redis.asyncio.cluster import RedisCluster

        return RedisCluster.from_url(node_url(url), **options)
    return redis.asyncio.Redis.from_url(url, **options)


def unreachable(url: str, exc: BaseException) -> ServiceUnavailableError:
    """The one error for a Redis server that cannot be reached."""
    return ServiceUnavailableError(
        f"Redis at {describe(url)} is unreachable: {urls.scrub(str(exc), url)}",
        hint="Start Redis or fix REDIS_URL; unset it to use the embedded Valkey server.",
    )


def key(settings: Settings, *parts: str) -> str:
    """A namespaced key, so several tools (and test runs) can share one Redis."""
    return settings.redis_key_prefix + ":".join(parts)
