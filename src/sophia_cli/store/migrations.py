"""Versioned, checksummed SQL migrations for the warehouse.

Files `store/sql/NNNN_name.sql` are applied in order, each in its own transaction. Every
transaction first takes a transaction-scoped advisory lock and re-reads what is applied, so
concurrent upgrades serialise (the second waits, then finds nothing left to do) even through
a transaction pooler, where a session lock would stay on whichever server connection took it.
An applied migration whose file has changed is an error, never skipped.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg

from sophia_cli.core.errors import MigrationError

# Any fixed 64-bit number works; this one spells "sophia" in ASCII.
ADVISORY_LOCK_KEY = 0x736F70686961
_FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_BOOKKEEPING = """
CREATE SCHEMA IF NOT EXISTS sophia;
CREATE TABLE IF NOT EXISTS sophia.schema_migrations (
    version      integer PRIMARY KEY,
    name         text NOT NULL,
    checksum     text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    duration_ms  integer NOT NULL
);
"""


@dataclass(frozen=True)
class Migration:
    """One migration file shipped with sophia."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


@dataclass(frozen=True)
class AppliedMigration:
    """A row of sophia.schema_migrations."""

    version: int
    name: str
    checksum: str
    applied_at: datetime


@dataclass(frozen=True)
class MigrationState:
    """Shipped migrations compared with what the database has applied."""

    applied: list[AppliedMigration]
    pending: list[Migration]
    changed: list[Migration]
    unknown: list[AppliedMigration]

    @property
    def current(self) -> bool:
        return not (self.pending or self.changed or self.unknown)


def discover() -> list[Migration]:
    """Every migration shipped in the package, in version order."""
    folder = resources.files("sophia_cli.store") / "sql"
    found = []
    for entry in folder.iterdir():
        match = _FILE_PATTERN.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    return found


def read_applied(conn: psycopg.Connection[tuple[object, ...]]) -> list[AppliedMigration]:
    """Rows of sophia.schema_migrations, or [] when the database was never initialised."""
    exists = conn.execute("SELECT to_regclass('sophia.schema_migrations')").fetchone()
    if exists is None or exists[0] is None:
        return []
    rows = conn.execute(
        "SELECT version, name, checksum, applied_at FROM sophia.schema_migrations ORDER BY version"
    ).fetchall()
    return [AppliedMigration(int(str(v)), str(n), str(c), a) for v, n, c, a in rows]  # type: ignore[arg-type]


def compare(applied: list[AppliedMigration], shipped: list[Migration]) -> MigrationState:
    """Classify shipped migrations as pending or changed, and applied ones as unknown."""
    by_version = {row.version: row for row in applied}
    shipped_versions = {migration.version for migration in shipped}
    pending = [m for m in shipped if m.version not in by_version]
    changed = [
        m
        for m in shipped
        if m.version in by_version and by_version[m.version].checksum != m.checksum
    ]
    unknown = [row for row in applied if row.version not in shipped_versions]
    return MigrationState(applied=applied, pending=pending, changed=changed, unknown=unknown)


def state(conn: psycopg.Connection[tuple[object, ...]]) -> MigrationState:
    """The migration state of the database behind `conn`."""
    return compare(read_applied(conn), discover())


def upgrade(conn: psycopg.Connection[tuple[object, ...]]) -> list[Migration]:
    """Apply every pending migration; returns those applied by this call.

    `conn` must be in autocommit mode: each migration opens its own transaction, which
    holds the advisory lock until it commits.
    """
    if not conn.autocommit:
        raise ValueError("upgrade() needs an autocommit connection")
    with conn.transaction():
        _lock(conn)
        conn.execute(_BOOKKEEPING)
        current = state(conn)
    _refuse_drift(current)
    return [migration for migration in current.pending if _apply(conn, migration)]


def _lock(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))


def _refuse_drift(current: MigrationState) -> None:
    if current.changed:
        labels = ", ".join(m.label for m in current.changed)
        raise MigrationError(
            f"applied migration changed since it ran: {labels}",
            hint="Never edit an applied migration; restore the file and add a new migration.",
        )
    if current.unknown:
        labels = ", ".join(f"{row.version:04d}_{row.name}" for row in current.unknown)
        raise MigrationError(
            f"the database has migrations this sophia does not know: {labels}",
            hint="Upgrade sophia to the version that wrote them.",
        )


def _apply(conn: psycopg.Connection[tuple[object, ...]], migration: Migration) -> bool:
    """Apply one migration unless another upgrade did meanwhile; True when this call did."""
    started = time.perf_counter()
    try:
        with conn.transaction():
            _lock(conn)
            done = conn.execute(
                "SELECT 1 FROM sophia.schema_migrations WHERE version = %s", (migration.version,)
            ).fetchone()
            if done is not None:
                return False
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO sophia.schema_migrations (version, name, checksum, duration_ms)"
                " VALUES (%s, %s, %s, %s)",
                (
                    migration.version,
                    migration.name,
                    migration.checksum,
                    int((time.perf_counter() - started) * 1000),
                ),
            )
    except psycopg.Error as exc:
        raise MigrationError(
            f"migration {migration.label} failed and was rolled back: {exc}".strip(),
            hint="Fix the cause above; nothing of this migration was applied.",
        ) from exc
    return True
