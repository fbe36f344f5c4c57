"""Inspect each store: where it is, whether it answers, version, migrations."""

from __future__ import annotations

from sophia_cli.core import urls
from sophia_cli.core.db.models import DbStatus, MigrationSummary, StoreStatus
from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import (
    embedded_milvus,
    embedded_postgres,
    embedded_redis,
    migrations,
    milvus,
    postgres,
    redis,
)

QUICK_TIMEOUT_S = 3.0


def summarise(state: migrations.MigrationState) -> MigrationSummary:
    """Migration state as labels, for output."""
    return MigrationSummary(
        applied=[f"{row.version:04d}_{row.name}" for row in state.applied],
        pending=[m.label for m in state.pending],
        changed=[m.label for m in state.changed],
        unknown=[f"{row.version:04d}_{row.name}" for row in state.unknown],
    )


def warehouse_status(settings: Settings, *, start_embedded: bool = False) -> StoreStatus:
    """PostgreSQL status; the embedded server is only started when asked to."""
    embedded = postgres.is_embedded(settings)
    if embedded and not start_embedded:
        local = embedded_postgres.state(settings.home)
        if not local.running:
            detail = "stopped" if local.initialised else "not initialised (run `sophia db init`)"
            return StoreStatus(
                store="warehouse",
                backend="PostgreSQL (embedded)",
                embedded=True,
                location=str(local.data_dir),
                reachable=False,
                stopped=True,
                detail=detail,
            )
    try:
        url = postgres.resolve_url(settings)
        with postgres.connect_url(url, autocommit=True, connect_timeout=QUICK_TIMEOUT_S) as conn:
            version = conn.execute("SHOW server_version").fetchone()
            summary = summarise(migrations.state(conn))
    except ServiceUnavailableError as exc:
        return StoreStatus(
            store="warehouse",
            backend="PostgreSQL (embedded)" if embedded else "PostgreSQL",
            embedded=embedded,
            location=str(embedded_postgres.data_dir(settings.home)) if embedded else "DATABASE_URL",
            reachable=False,
            detail=exc.message,
        )
    return StoreStatus(
        store="warehouse",
        backend="PostgreSQL (embedded)" if embedded else "PostgreSQL",
        embedded=embedded,
        location=postgres.describe(url),
        reachable=True,
        version=str(version[0]) if version else None,
        migrations=summary,
        detail=None if embedded else postgres.pooling_summary(settings, url),
    )


def cache_status(settings: Settings, *, start_embedded: bool = False) -> StoreStatus:
    """Redis status; the embedded server is only started when asked to."""
    embedded = redis.is_embedded(settings)
    backend = "Valkey (embedded)" if embedded else "Redis"
    if settings.redis_cluster or (
        not embedded and redis.is_cluster_url(settings.secret_value("redis_url") or "")
    ):
        backend = "Redis Cluster"
    if embedded and not start_embedded and not embedded_redis.state(settings.home).running:
        return StoreStatus(
            store="cache",
            backend=backend,
            embedded=True,
            location=str(embedded_redis.socket_path(settings.home)),
            reachable=False,
            stopped=True,
            detail="stopped (started on first use)",
        )
    try:
        url = redis.resolve_url(settings)
        client = redis.client_for_url(url, timeout_s=QUICK_TIMEOUT_S)
        info = client.info("server")
        client.close()
    except ServiceUnavailableError as exc:
        return StoreStatus(
            store="cache",
            backend=backend,
            embedded=embedded,
            location="REDIS_URL",
            reachable=False,
            detail=exc.message,
        )
    except Exception as exc:  # redis-py raises several unrelated types for "cannot reach"
        return StoreStatus(
            store="cache",
            backend=backend,
            embedded=embedded,
            location=redis.describe(url),
            reachable=False,
            detail=urls.scrub(str(exc), url),
        )
    version = info.get("valkey_version") or info.get("redis_version")
    return StoreStatus(
        store="cache",
        backend=backend,
        embedded=embedded,
        location=redis.describe(url),
        reachable=True,
        version=str(version) if version else None,
    )


def vectors_status(settings: Settings, *, start_embedded: bool = False) -> StoreStatus:
    """Milvus status; the embedded Milvus Lite server is only started when asked to."""
    embedded = milvus.is_embedded(settings)
    backend = "Milvus Lite (embedded server)" if embedded else "Milvus"
    location = str(milvus.lite_path(settings.home)) if embedded else str(settings.milvus_uri)
    if embedded and not start_embedded and not embedded_milvus.state(settings.home).running:
        return StoreStatus(
            store="vectors",
            backend=backend,
            embedded=True,
            location=location,
            reachable=False,
            detail="stopped (started on first use)",
        )
    try:
        client = milvus.client(settings, timeout_s=QUICK_TIMEOUT_S)
        version = client.get_server_version()
        collections = client.list_collections()
        client.close()
    except ServiceUnavailableError as exc:
        return StoreStatus(
            store="vectors",
            backend=backend,
            embedded=embedded,
            location=location,
            reachable=False,
            detail=exc.message,
        )
    except Exception as exc:  # pymilvus wraps gRPC failures in many types
        return StoreStatus(
            store="vectors",
            backend=backend,
            embedded=embedded,
            location=location,
            reachable=False,
            detail=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        )
    return StoreStatus(
        store="vectors",
        backend=backend,
        embedded=embedded,
        location=location,
        reachable=True,
        version=str(version),
        detail=f"collections: {', '.join(collections) or 'none'}"
        + (f"; server {milvus.resolve_uri(settings)}" if embedded else ""),
    )


def db_status(settings: Settings) -> DbStatus:
    """Status of every store, without starting embedded servers that are stopped."""
    return DbStatus(
        stores=[warehouse_status(settings), cache_status(settings), vectors_status(settings)]
    )
