"""The read-only role `ask` and `query` switch to: created and granted by `db upgrade`.

A role that may only read the synced schemas and sophia's run records, so a statement that
slipped past the guard still cannot read server files, other schemas or password hashes.
Roles are cluster-wide and managed servers may refuse to create them: every step here is
tried, and what the connecting user may not do is skipped (queries then run as that user,
still in a read-only transaction). Re-run on every upgrade, so a role dropped or created
later by an administrator is picked up and new tables are granted.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

ROLE = "sophia_reader"
# The data version's epoch and sequence too: ask reads the version as the reader.
READABLE_OWN_TABLES = ("sync_runs", "sync_state", "data_epoch", "data_version")


def _attempt(conn: psycopg.Connection[tuple[object, ...]], statement: sql.Composed) -> bool:
    """Run one statement in its own transaction; False when the server refuses it."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.DuplicateObject):
        return False
    except psycopg.errors.InternalError_:
        return False  # "tuple concurrently updated": another database's upgrade raced us
    return True


def _exists(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE]).fetchone()
    return row is not None


def ensure_reader_role(
    conn: psycopg.Connection[tuple[object, ...]], schemas: Sequence[str]
) -> bool:
    """Create the role when missing, grant it read access, let the user switch to it.

    `conn` must be in autocommit mode. Returns whether the connecting user can now run
    statements as the role.
    """
    role = sql.Identifier(ROLE)
    if not _exists(conn):
        _attempt(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(role))
    if not _exists(conn):
        return False
    present = [
        str(row[0])
        for row in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", [list(schemas)]
        ).fetchall()
    ]
    for schema in present:
        name = sql.Identifier(schema)
        _attempt(conn, sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(name, role))
        _attempt(conn, sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(name, role))
        _attempt(
            conn,
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                name, role
            ),
        )
    own = sql.SQL(", ").join(sql.Identifier("sophia", table) for table in READABLE_OWN_TABLES)
    _attempt(conn, sql.SQL("GRANT USAGE ON SCHEMA sophia TO {}").format(role))
    _attempt(conn, sql.SQL("GRANT SELECT ON {} TO {}").format(own, role))
    if not _member(conn):
        _attempt(conn, sql.SQL("GRANT {} TO CURRENT_USER").format(role))
    return _member(conn)


def _member(conn: psycopg.Connection[tuple[object, ...]]) -> bool:
    row = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", [ROLE]).fetchone()
    return bool(row and row[0])
