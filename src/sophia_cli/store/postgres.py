"""PostgreSQL connections: DATABASE_URL when set, else the embedded server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg.conninfo import conninfo_to_dict

from sophia_cli.core import urls
from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import embedded_postgres

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

CONNECT_TIMEOUT_S = 5


def is_embedded(settings: Settings) -> bool:
    return settings.database_url is None


def resolve_url(settings: Settings) -> str:
    """The conninfo to use, starting the embedded server when DATABASE_URL is unset."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return embedded_postgres.ensure_running(settings.home)


def describe(url: str) -> str:
    """Where a conninfo points, without credentials: `host:port/dbname` or the socket dir."""
    if urls.problem(url) is not None:
        return urls.describe(url)
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return urls.describe(url)
    host = str(parts.get("host") or "localhost")
    port = parts.get("port") or 5432
    dbname = parts.get("dbname") or parts.get("user") or ""
    if host.startswith("/"):
        return f"socket {host}/{dbname}"
    return f"{host}:{port}/{dbname}"


def malformed(url: str, reason: str) -> ServiceUnavailableError:
    """The error for a DATABASE_URL that cannot be used as written (never echoes it)."""
    return ServiceUnavailableError(
        f"DATABASE_URL is malformed: {reason}",
        hint="Use postgresql://user:password@host:5432/dbname with special characters "
        "percent-encoded; `sophia env check` points at the problem.",
    )


def connect(
    settings: Settings,
    *,
    autocommit: bool = False,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> psycopg.Connection[tuple[object, ...]]:
    """Open one connection, or raise ServiceUnavailableError saying where and why."""
    return connect_url(
        resolve_url(settings), autocommit=autocommit, connect_timeout=connect_timeout
    )


def connect_url(
    url: str, *, autocommit: bool = False, connect_timeout: float = CONNECT_TIMEOUT_S
) -> psycopg.Connection[tuple[object, ...]]:
    """Open one connection to an explicit conninfo."""
    if (reason := urls.problem(url)) is not None:
        raise malformed(url, reason)
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=max(1, int(connect_timeout)),
            application_name="sophia",
        )
    except psycopg.OperationalError as exc:
        raise unreachable(url, exc) from exc
    except psycopg.ProgrammingError as exc:
        # libpq's parse errors quote the offending part of the URL, often the password.
        raise malformed(url, "libpq cannot parse it") from exc


def unreachable(url: str, exc: BaseException) -> ServiceUnavailableError:
    """The one error for a PostgreSQL server that cannot be reached or refuses us."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    reason = urls.scrub(lines[0], url) if lines else type(exc).__name__
    return ServiceUnavailableError(
        f"PostgreSQL at {describe(url)} is unreachable: {reason}",
        hint="Start the server or fix DATABASE_URL; unset it to use the embedded PostgreSQL.",
    )


def open_pool(settings: Settings, *, min_size: int = 1, read_only: bool = False) -> ConnectionPool:
    """A connection pool for long-lived processes (the server, concurrent sync).

    `read_only` pools begin every transaction READ ONLY. Connections speak UTF-8 whatever
    the database's default client encoding, so no multi-byte encoding can hide a quote.
    """
    from psycopg_pool import ConnectionPool

    def configure(conn: psycopg.Connection[tuple[object, ...]]) -> None:
        conn.read_only = read_only

    url = resolve_url(settings)
    if (reason := urls.problem(url)) is not None:
        raise malformed(url, reason)
    # One direct connection first: a refused or unknown server fails at once with libpq's
    # reason, where the pool would retry quietly for its whole timeout and say only that.
    connect_url(url).close()
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max(min_size, settings.database_pool_max),
        kwargs={
            "application_name": "sophia",
            "connect_timeout": CONNECT_TIMEOUT_S,
            "client_encoding": "utf8",
            # No server-side prepared statements: transaction poolers cannot keep them.
            "prepare_threshold": None,
        },
        configure=configure if read_only else None,
        open=False,
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
    except Exception as exc:  # PoolTimeout hides the connection error in its message
        pool.close()
        raise unreachable(url, exc) from exc
    return pool
