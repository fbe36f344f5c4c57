"""Stores as doctor finds them: a running server is checked, a stopped one is never started.

Starting an embedded server takes seconds (Milvus Lite the most) and a health check that
started one would report on a server it had just made: with every store down, `sophia
doctor` took ~23 s, most of it starting Milvus Lite. A stopped embedded server is not a
fault (sophia starts it on first use), so the checks that need one are skipped with a line
that says so and how to start it. A remote Milvus is probed with one TCP connect before
pymilvus (seconds of imports) is loaded to ask it anything.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from sophia_cli.core.doctor.models import Outcome, fail, skip, warn
from sophia_cli.core.settings import Settings

STARTS = "sophia starts it on first use; `sophia db init` starts it now"
PROBE_TIMEOUT_S = 2.0


def postgres_stopped(settings: Settings) -> Outcome | None:
    """Why the embedded PostgreSQL cannot be checked now, or None when it can (or is remote)."""
    from sophia_cli.store import embedded_postgres, postgres

    if not postgres.is_embedded(settings):
        return None
    found = embedded_postgres.state(settings.home)
    if not found.initialised:
        return warn("embedded PostgreSQL not initialised; run `sophia db init`")
    if not found.running:
        return skip(f"embedded PostgreSQL is not running ({STARTS})")
    return None


def redis_stopped(settings: Settings) -> Outcome | None:
    """Why the embedded Valkey cannot be checked now, or None when it can (or is remote)."""
    from sophia_cli.store import embedded_redis, redis

    if not redis.is_embedded(settings) or embedded_redis.state(settings.home).running:
        return None
    return skip(f"embedded Valkey is not running ({STARTS})")


def milvus_unreachable(settings: Settings) -> Outcome | None:
    """Why Milvus cannot be asked now (embedded and stopped, or a server that refuses a TCP
    connection), or None when a client should try."""
    from sophia_cli.store import embedded_milvus, milvus

    if milvus.is_embedded(settings):
        if embedded_milvus.state(settings.home).running:
            return None
        return skip(f"embedded Milvus Lite is not running ({STARTS})")
    uri = settings.milvus_uri or ""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None  # the client names what is wrong with it
    if "://" not in uri or host is None or port is None:
        return None  # a Milvus Lite file, or a port left to pymilvus' defaults
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return None
    except OSError as exc:
        from sophia_cli.core import urls

        reason = "timed out" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        return fail(f"Milvus at {urls.describe(uri)} is unreachable: {reason}")
