"""PostgreSQL connections: DATABASE_URL when set, else the embedded server."""

from __future__ import annotations

from collections.abc import Callable
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
# psycopg's own default: a statement run this many times on a connection gets prepared.
PSYCOPG_PREPARE_THRESHOLD = 5

# Hosts and ports of the transaction poolers managed services put in front of PostgreSQL.
_POOLER_HINTS: tuple[tuple[str, Callable[[str, int], bool]], ...] = (
    ("Neon pooled endpoint", lambda host, port: "-pooler." in host),
    ("Supabase pooler", lambda host, port: host.endswith(".pooler.supabase.com") or port == 6543),
    ("RDS Proxy", lambda host, port: ".proxy-" in host and host.endswith(".rds.amazonaws.com")),
    ("PgBouncer (port 6432)", lambda host, port: port == 6432),
)


def is_embedded(settings: Settings) -> bool:
    return settings.database_url is None


def resolve_url(settings: Settings) -> str:
    """The conninfo to use, starting the embedded server when DATABASE_URL is unset."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    return embedded_postgres.ensure_running(settings.home)


def direct_url(settings: Settings) -> str:
    """Where migrations run: DATABASE_DIRECT_URL when set, else the usual connection."""
    return settings.secret_value("database_direct_url") or resolve_url(settings)


def detect_pooler(url: str) -> str | None:
    """The transaction pooler a URL's host or port names, when it names one."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return None
    host = str(parts.get("host") or "").lower()
    try:
        port = int(str(parts.get("port") or 5432))
    except ValueError:
        return None
    return next((name for name, matches in _POOLER_HINTS if matches(host, port)), None)


def prepare_threshold(settings: Settings) -> int | None:
    """psycopg's prepare_threshold for these settings: None = never prepare on the server.

    A transaction pooler hands each transaction to any server connection, where a statement
    prepared on another one "does not exist". Only a server known to be direct (the
    embedded one, or DATABASE_POOLING=session) gets prepared statements: they save little
    for sophia's queries, and a pooler that no URL reveals must not break a sync.
    """
    mode = settings.database_pooling
    if mode == "session" or (mode == "auto" and is_embedded(settings)):
        return PSYCOPG_PREPARE_THRESHOLD
    return None


def pooling_summary(settings: Settings, url: str) -> str:
    """One line on how sophia treats the connection: pooling mode and where it migrates."""
    pooler = detect_pooler(url)
    mode = "session (prepared statements on)" if prepare_threshold(settings) else "transaction-safe"
    found = f"; {pooler} detected" if pooler else ""
    where = (
        "migrations over DATABASE_DIRECT_URL"
        if settings.secret_value("database_direct_url")
        else "migrations over this URL"
    )
    return f"pooling: {mode}{found}; {where}"


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
        resolve_url(settings),
        autocommit=autocommit,
        connect_timeout=connect_timeout,
        prepare=prepare_threshold(settings),
    )


def connect_url(
    url: str,
    *,
    autocommit: bool = False,
    connect_timeout: float = CONNECT_TIMEOUT_S,
    prepare: int | None = None,
) -> psycopg.Connection[tuple[object, ...]]:
    """Open one connection to an explicit conninfo (no prepared statements unless asked)."""
    if (reason := urls.problem(url)) is not None:
        raise malformed(url, reason)
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=max(1, int(connect_timeout)),
            application_name="sophia",
            prepare_threshold=prepare,
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
            "prepare_threshold": prepare_threshold(settings),
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
