"""The per-source sync lock: a transaction-scoped advisory lock plus a lease row.

Two syncs of one source must not interleave. A session advisory lock cannot promise that
through a transaction pooler (the lock stays on one server session while the next
transaction may run on another, and another client may be handed that same session). So:

- The lock is `pg_try_advisory_xact_lock` inside a transaction that a connection of the
  lease's own keeps open for the whole run. A pooler in transaction mode pins a server
  session to an open transaction, so the lock means the same through it; and when the
  holder dies (SIGKILL, a lost network) its transaction is rolled back and the lock is
  free at once, so the next cron run is not refused.
- The lease row in `sophia.sync_leases` says who holds the source (host:pid:run) and is
  renewed by a heartbeat with an expiry, for "already running" messages and for the fence:
  every page's transaction checks the row is still this run's before it commits, so a run
  whose lock was lost (its lock transaction killed by an idle timeout) and taken over by
  another run writes nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from psycopg import AsyncConnection

from sophia_cli.core.errors import SophiaError
from sophia_cli.core.sync.streams import Conn

LEASE_TTL_S = 60.0
# Renewed four times per lifetime: three missed heartbeats in a row still keep the lease.
HEARTBEAT_S = LEASE_TTL_S / 4

_TAKE = """
INSERT INTO sophia.sync_leases AS lease (source, holder, expires_at)
VALUES (%(source)s, %(holder)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (source) DO UPDATE
   SET holder = EXCLUDED.holder, acquired_at = now(), heartbeat_at = now(),
       expires_at = EXCLUDED.expires_at
 WHERE lease.expires_at < now()
RETURNING holder
"""
_CLAIM = """
INSERT INTO sophia.sync_leases AS lease (source, holder, expires_at)
VALUES (%(source)s, %(holder)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (source) DO UPDATE
   SET holder = EXCLUDED.holder, acquired_at = now(), heartbeat_at = now(),
       expires_at = EXCLUDED.expires_at
"""
_RENEW = """
UPDATE sophia.sync_leases
   SET heartbeat_at = now(), expires_at = now() + make_interval(secs => %(ttl)s)
 WHERE source = %(source)s AND holder = %(holder)s
"""
_HOLDER = """
SELECT holder, extract(epoch FROM now() - heartbeat_at), extract(epoch FROM expires_at - now())
  FROM sophia.sync_leases WHERE source = %s
"""


class LeaseLostError(SophiaError):
    """This run's lease expired and another run took the source over."""


@dataclass(frozen=True)
class Busy:
    """Who holds a source's lease, for the "already running" message."""

    holder: str
    heartbeat_age_s: float
    expires_in_s: float

    def describe(self) -> str:
        return (
            f"held by {self.holder}, last heartbeat {self.heartbeat_age_s:.0f} s ago, "
            f"expires in {max(0.0, self.expires_in_s):.0f} s unless renewed"
        )


@dataclass(frozen=True)
class Lease:
    """A lease this run holds."""

    source: str
    holder: str


def new_holder(run_id: str) -> str:
    """Who a lease belongs to: host, process and run, so an operator can find it."""
    return f"{socket.gethostname()}:{os.getpid()}:{run_id}"


def lock_key(source: str) -> int:
    """A stable signed 64-bit advisory-lock key per source."""
    digest = hashlib.sha256(f"sophia.sync:{source}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def take(conn: Conn, source: str, holder: str, ttl_s: float = LEASE_TTL_S) -> bool:
    """Take the source's lease row when it is free or expired; False when someone holds it."""
    cursor = await conn.execute(_TAKE, {"source": source, "holder": holder, "ttl": ttl_s})
    return await cursor.fetchone() is not None


async def claim(conn: Conn, source: str, holder: str, ttl_s: float = LEASE_TTL_S) -> None:
    """Write the lease row as ours whatever it says: we hold the lock, its writer does not."""
    await conn.execute(_CLAIM, {"source": source, "holder": holder, "ttl": ttl_s})


async def renew(conn: Conn, source: str, holder: str, ttl_s: float = LEASE_TTL_S) -> bool:
    """Push the expiry forward; False when the lease is no longer ours."""
    cursor = await conn.execute(_RENEW, {"source": source, "holder": holder, "ttl": ttl_s})
    return cursor.rowcount == 1


async def release(conn: Conn, source: str, holder: str) -> None:
    await conn.execute(
        "DELETE FROM sophia.sync_leases WHERE source = %s AND holder = %s", (source, holder)
    )


async def busy(conn: Conn, source: str) -> Busy | None:
    """The current holder of a source's lease, if any."""
    cursor = await conn.execute(_HOLDER, (source,))
    row = await cursor.fetchone()
    if row is None:
        return None
    return Busy(str(row[0]), float(str(row[1])), float(str(row[2])))


async def fence(conn: Conn, lease: Lease) -> None:
    """Inside a page's transaction: refuse to commit unless the lease is still ours."""
    cursor = await conn.execute(
        "SELECT 1 FROM sophia.sync_leases WHERE source = %s AND holder = %s"
        " AND expires_at > now() FOR KEY SHARE",
        (lease.source, lease.holder),
    )
    if await cursor.fetchone() is None:
        raise LeaseLostError(
            f"{lease.source}: this run's lease expired and was taken over; page not written",
            hint="Another run now syncs this source; nothing is lost, it re-reads from the "
            "last committed bookmark.",
        )


async def _heartbeat(conn: Conn, lease: Lease, every_s: float, ttl_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        # A failed renewal is retried at the next beat; the page fence catches a real loss.
        with contextlib.suppress(Exception):
            await renew(conn, lease.source, lease.holder, ttl_s)


async def _connect(url: str, prepare: int | None, name: str) -> Conn:
    return await AsyncConnection.connect(
        url, autocommit=True, prepare_threshold=prepare, application_name=name
    )


async def _lock(conn: Conn, source: str, wait: bool) -> bool:
    """Open the lock transaction and take the source's lock in it (blocking with `wait`)."""
    await conn.execute("BEGIN")
    if wait:
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(source),))
        return True
    cursor = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (lock_key(source),))
    row = await cursor.fetchone()
    return bool(row and row[0])


@contextlib.asynccontextmanager
async def held(
    url: str,
    source: str,
    holder: str,
    *,
    wait: bool,
    prepare: int | None = None,
    ttl_s: float = LEASE_TTL_S,
) -> AsyncIterator[Lease | Busy]:
    """Hold the source for the block (lock held, heartbeat running), or yield who holds it.

    With `wait`, waits for the holder to finish. Two connections of the lease's own: one
    keeps the lock transaction open, the other writes the row and its heartbeat, so neither
    lands inside the sync's page transactions.
    """
    async with (
        await _connect(url, prepare, "sophia-lock") as locker,
        await _connect(url, prepare, "sophia-lease") as conn,
    ):
        try:
            if not await _lock(locker, source, wait):
                current = await busy(conn, source)
                yield current or Busy("another run (starting)", 0.0, ttl_s)
                return
            await claim(conn, source, holder, ttl_s)
            lease = Lease(source, holder)
            beat = asyncio.create_task(_heartbeat(conn, lease, ttl_s / 4, ttl_s))
            try:
                yield lease
            finally:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat
                await release(conn, source, holder)
        finally:
            # Ends the lock transaction; if the server already ended it, there is nothing to do.
            with contextlib.suppress(Exception):
                await locker.execute("ROLLBACK")
