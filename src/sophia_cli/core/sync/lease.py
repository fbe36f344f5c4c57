"""The per-source sync lease: a row of `sophia.sync_leases` with an expiry and a heartbeat.

Two syncs of one source must not interleave. A session advisory lock cannot promise that
through a transaction pooler (the lock stays on one server connection while the next
transaction may run on another, and another client may be handed that same connection), so
the lock is a row: taken when absent or expired, renewed by a heartbeat on a connection of
its own, deleted at the end. A killed holder stops renewing and its lease expires. Every
page's transaction checks the lease is still this run's before it commits (a fence), so a
run that stalled past its expiry and was taken over writes nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
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
WAIT_POLL_S = 1.0

_TAKE = """
INSERT INTO sophia.sync_leases AS lease (source, holder, expires_at)
VALUES (%(source)s, %(holder)s, now() + make_interval(secs => %(ttl)s))
ON CONFLICT (source) DO UPDATE
   SET holder = EXCLUDED.holder, acquired_at = now(), heartbeat_at = now(),
       expires_at = EXCLUDED.expires_at
 WHERE lease.expires_at < now()
RETURNING holder
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


def _dead_here(holder: str) -> bool:
    """Whether `holder` names a process of this host that no longer exists (killed)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


async def take(conn: Conn, source: str, holder: str, ttl_s: float = LEASE_TTL_S) -> bool:
    """Take the source's lease when it is free, expired, or held by a dead local process.

    False when someone holds it. A holder killed on this host (SIGKILL, OOM) cannot renew;
    waiting out its expiry would only delay the resume, so its lease is taken at once.
    """
    cursor = await conn.execute(_TAKE, {"source": source, "holder": holder, "ttl": ttl_s})
    if await cursor.fetchone() is not None:
        return True
    current = await busy(conn, source)
    if current is None or not _dead_here(current.holder):
        return False
    cursor = await conn.execute(
        "UPDATE sophia.sync_leases SET holder = %(holder)s, acquired_at = now(),"
        " heartbeat_at = now(), expires_at = now() + make_interval(secs => %(ttl)s)"
        " WHERE source = %(source)s AND holder = %(old)s",
        {"source": source, "holder": holder, "ttl": ttl_s, "old": current.holder},
    )
    return cursor.rowcount == 1


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
    """Hold the source's lease for the block (heartbeat running), or yield who holds it.

    With `wait`, polls until the lease is free. The lease has a connection of its own, so
    its heartbeat never lands inside the sync's page transactions.
    """
    async with await AsyncConnection.connect(
        url, autocommit=True, prepare_threshold=prepare, application_name="sophia-lease"
    ) as conn:
        while not await take(conn, source, holder, ttl_s):
            current = await busy(conn, source)
            if not wait and current is not None:
                yield current
                return
            await asyncio.sleep(WAIT_POLL_S)
        lease = Lease(source, holder)
        beat = asyncio.create_task(_heartbeat(conn, lease, ttl_s / 4, ttl_s))
        try:
            yield lease
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            await release(conn, source, holder)
