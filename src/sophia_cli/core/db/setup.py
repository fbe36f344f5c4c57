"""Create and upgrade the stores: `db init`, `db upgrade` and `db stop`."""

from __future__ import annotations

from sophia_cli.core.db.models import InitReport, StopReport, StoreName
from sophia_cli.core.db.status import cache_status, vectors_status, warehouse_status
from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.sources import SCHEMAS
from sophia_cli.store import (
    embedded_milvus,
    embedded_postgres,
    embedded_redis,
    migrations,
    milvus,
    postgres,
    redis,
)
from sophia_cli.store.reader_role import ROLE, ensure_reader_role


def upgrade_warehouse(settings: Settings) -> tuple[list[str], int]:
    """Apply pending migrations and (re)grant the reader role when the user may.

    Returns (labels applied now, count applied before). Runs over DATABASE_DIRECT_URL
    when set (DDL and role grants need no pooler in between), else over DATABASE_URL.
    """
    url = postgres.direct_url(settings)
    with postgres.connect_url(url, autocommit=True, prepare=None) as conn:
        before = len(migrations.read_applied(conn))
        applied = migrations.upgrade(conn)
        ensure_reader_role(conn, SCHEMAS)  # one grant per declared source
    return [m.label for m in applied], before


def reader_role_ready(settings: Settings) -> bool:
    """Whether `ask` and `query` statements can run as the read-only role."""
    with postgres.connect(settings, autocommit=True) as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s)"
            " AND pg_has_role(current_user, %s, 'MEMBER')",
            [ROLE, ROLE],
        ).fetchone()
    return bool(row and row[0])


def ensure_collections(settings: Settings) -> list[str]:
    """Create the Milvus collections sync and search use (filled from the warehouse when
    new, e.g. after an embedder change); returns those created now."""
    from sophia_cli.core.search.index import refresh

    return [milvus.TEXT_COLLECTION] if refresh(settings).rebuilt else []


def check_redis(settings: Settings) -> bool:
    """Ping Redis (starting the embedded server if needed)."""
    url = redis.resolve_url(settings)
    client = redis.client_for_url(url)
    try:
        return bool(client.ping())
    except Exception as exc:  # redis-py raises several unrelated types for "cannot reach"
        raise redis.unreachable(url, exc) from exc
    finally:
        client.close()


def init(settings: Settings, *, with_stores: bool = True) -> InitReport:
    """Bring every store up: migrate the warehouse, create collections, check Redis."""
    applied, before = upgrade_warehouse(settings)
    collections = ensure_collections(settings) if with_stores else []
    redis_ok = check_redis(settings) if with_stores else None
    stores = [warehouse_status(settings, start_embedded=True)]
    if with_stores:
        stores += [
            cache_status(settings, start_embedded=True),
            vectors_status(settings, start_embedded=True),
        ]
    return InitReport(
        applied=applied,
        already_applied=before,
        collections_created=collections,
        redis_ok=redis_ok,
        stores=stores,
    )


def stop(settings: Settings) -> StopReport:
    """Stop the embedded PostgreSQL, Valkey and Milvus Lite servers (managed ones are left)."""
    stopped: list[StoreName] = []
    idle: list[StoreName] = []
    if embedded_postgres.stop(settings.home):
        stopped.append("warehouse")
    else:
        idle.append("warehouse")
    if embedded_redis.stop(settings.home):
        stopped.append("cache")
    else:
        idle.append("cache")
    if embedded_milvus.stop(settings.home):
        stopped.append("vectors")
    else:
        idle.append("vectors")
    return StopReport(stopped=stopped, not_running=idle)
