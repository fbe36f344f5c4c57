"""Milvus: reachable (a server) or openable (Milvus Lite)."""

from __future__ import annotations

from sophia_cli.core.doctor.embedded import milvus_unreachable
from sophia_cli.core.doctor.models import Outcome, fail, ok
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.settings import Settings
from sophia_cli.store import milvus


@check("milvus", "stores", timeout_s=15.0)
def milvus_reachable(settings: Settings) -> Outcome:
    """Open a client and list collections (a stopped embedded server is not started)."""
    if (found := milvus_unreachable(settings)) is not None:
        return found
    client = milvus.client(settings, timeout_s=5.0)
    try:
        collections = client.list_collections()
    except Exception as exc:  # pymilvus wraps gRPC failures in many types
        return fail(f"Milvus at {milvus.resolve_uri(settings)}: {str(exc).splitlines()[0]}")
    finally:
        client.close()
    kind = "Milvus Lite" if milvus.is_embedded(settings) else "Milvus"
    has_text = milvus.TEXT_COLLECTION in collections
    note = "" if has_text else f"; {milvus.TEXT_COLLECTION} not created yet (run `sophia db init`)"
    return ok(f"{kind} at {milvus.resolve_uri(settings)}: {len(collections)} collections{note}")
