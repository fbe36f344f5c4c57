"""Redis connections: REDIS_URL when set, else the embedded Valkey server."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

from sophia_cli.core import urls
from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import embedded_redis

SOCKET_TIMEOUT_S = 5.0


def is_embedded(settings: Settings) -> bool:
    return settings.redis_url is None


def resolve_url(settings: Settings) -> str:
    """The Redis URL to use, starting the embedded server when REDIS_URL is unset."""
    if settings.redis_url is not None:
        return settings.redis_url.get_secret_value()
    return embedded_redis.ensure_running(settings.home)


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
    hint = "Use redis://host:6379/0 or rediss:// for TLS; unset it to use embedded Valkey."
    if (reason := urls.problem(url)) is not None:
        raise ServiceUnavailableError(f"REDIS_URL is malformed: {reason}", hint=hint)
    try:
        return redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    except ValueError as exc:
        reason = urls.scrub(str(exc), url)
        raise ServiceUnavailableError(
            f"REDIS_URL is not a valid Redis URL: {reason}", hint=hint
        ) from exc


def unreachable(url: str, exc: BaseException) -> ServiceUnavailableError:
    """The one error for a Redis server that cannot be reached."""
    return ServiceUnavailableError(
        f"Redis at {describe(url)} is unreachable: {urls.scrub(str(exc), url)}",
        hint="Start Redis or fix REDIS_URL; unset it to use the embedded Valkey server.",
    )


def key(settings: Settings, *parts: str) -> str:
    """A namespaced key, so several tools (and test runs) can share one Redis."""
    return settings.redis_key_prefix + ":".join(parts)
