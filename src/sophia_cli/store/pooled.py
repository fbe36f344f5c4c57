"""Per-process shared clients for hot paths (one LLM call must not open new connections).

`store.redis.client` and `store.postgres.connect` open a fresh connection each time, which is
right for commands but costs milliseconds per LLM call. These keep one Redis client (with its
connection pool) and one small PostgreSQL pool per target, per process.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import embedded_redis, postgres
from sophia_cli.store import redis as redis_store

if TYPE_CHECKING:
    import redis
    from psycopg_pool import ConnectionPool

_lock = threading.Lock()
_redis: dict[tuple[int, str], redis.Redis] = {}
_pools: dict[tuple[int, str], ConnectionPool] = {}
_readers: dict[tuple[int, str], ReadPool] = {}


@dataclass
class ReadPool:
    """Read-only connections for ask, query and search, and what the first one learnt."""

    pool: ConnectionPool
    reader_role: bool | None = None  # whether SET ROLE sophia_reader works here
    reader_role_at: float = 0.0  # when reader_role was read (monotonic seconds)
    # The guard's table list and when it was read (monotonic seconds): tables change with
    # migrations, not per request.
    known_tables: tuple[float, set[tuple[str, str]]] | None = None


def _target(settings: Settings, field: str) -> str:
    # The configured URL, or the home folder whose embedded server will be used.
    return settings.secret_value(field) or f"embedded:{settings.home}"


def redis_client(settings: Settings) -> redis.Redis:
    """A Redis client shared by this process for these settings' server."""
    name = (os.getpid(), _target(settings, "redis_url"))
    with _lock:
        client = _redis.get(name)
        if client is None:
            client = redis_store.client(settings)
            _redis[name] = client
        return client


def redis_unreachable(settings: Settings, exc: BaseException) -> ServiceUnavailableError:
    """The store's error for a Redis that cannot be reached, naming where it is."""
    url = settings.secret_value("redis_url") or embedded_redis.url(settings.home)
    return redis_store.unreachable(url, exc)


# The exceptions of a Redis that cannot be reached; made on first use (see __getattr__).
REDIS_DOWN: tuple[type[BaseException], ...]


def __getattr__(name: str) -> Any:
    # redis-py is imported here, not at the top: `sophia query` and the other PostgreSQL-only
    # paths import this module for its pools and must not pay ~40 ms for a client they never
    # use (redis-py's package always imports its asyncio half too).
    if name == "REDIS_DOWN":
        import redis

        return (redis.ConnectionError, redis.TimeoutError, OSError)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def pg_pool(settings: Settings) -> ConnectionPool:
    """A small PostgreSQL pool shared by this process for these settings' database."""
    name = (os.getpid(), _target(settings, "database_url"))
    with _lock:
        pool = _pools.get(name)
        if pool is None:
            pool = postgres.open_pool(settings, min_size=1)
            _pools[name] = pool
        return pool


def read_pool(settings: Settings) -> ReadPool:
    """This process's pool of read-only connections (every transaction READ ONLY)."""
    name = (os.getpid(), _target(settings, "database_url"))
    with _lock:
        found = _readers.get(name)
        if found is None:
            found = ReadPool(postgres.open_pool(settings, min_size=1, read_only=True))
            _readers[name] = found
        return found


@atexit.register
def close_all() -> None:
    """Close every shared client of this process."""
    with _lock:
        for key, reader in list(_readers.items()):
            if key[0] == os.getpid():
                reader.pool.close()
        _readers.clear()
        for key, pool in list(_pools.items()):
            if key[0] == os.getpid():
                pool.close()
        _pools.clear()
        for key, client in list(_redis.items()):
            if key[0] == os.getpid():
                client.close()
        _redis.clear()
