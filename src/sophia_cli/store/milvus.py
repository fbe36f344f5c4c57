"""Milvus connections: MILVUS_URI when set, else the embedded Milvus Lite server.

The embedded server (store/embedded_milvus.py) keeps its data under SOPHIA_HOME and is
shared by every sophia process on the machine.

pymilvus is heavy to import, so it is imported only inside these functions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from sophia_cli.core.errors import ServiceUnavailableError
from sophia_cli.core.settings import Settings
from sophia_cli.store import embedded_milvus

TEXT_COLLECTION = "sophia_text"
TEXT_MAX_LENGTH = 8192


def is_embedded(settings: Settings) -> bool:
    return settings.milvus_uri is None


def resolve_uri(settings: Settings) -> str:
    """The Milvus URI: MILVUS_URI, or the embedded server's (started when needed)."""
    if settings.milvus_uri:
        return settings.milvus_uri
    return embedded_milvus.ensure_running(settings.home)


def lite_path(home: Path) -> Path:
    return embedded_milvus.data_path(home)


def import_pymilvus() -> None:
    """Import pymilvus even when MILVUS_URI in the environment is a file path.

    pymilvus parses MILVUS_URI when imported and rejects a path, although MilvusClient
    takes one (Milvus Lite's file mode): without this, `MILVUS_URI=./x.db` failed with an
    internal error before any of our code could run.
    """
    if "pymilvus" in sys.modules:
        return
    value = os.environ.get("MILVUS_URI")
    hidden = value is not None and "://" not in value
    if hidden:
        del os.environ["MILVUS_URI"]
    try:
        import pymilvus  # noqa: F401
    finally:
        if hidden and value is not None:
            os.environ["MILVUS_URI"] = value


def client(settings: Settings, *, timeout_s: float = 10.0) -> Any:
    """A MilvusClient, or ServiceUnavailableError saying where and why."""
    import_pymilvus()
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    uri = resolve_uri(settings)
    token = settings.secret_value("milvus_token") or ""
    try:
        return MilvusClient(uri=uri, token=token, timeout=timeout_s)
    except (MilvusException, OSError, RuntimeError) as exc:
        raise ServiceUnavailableError(
            f"Milvus at {uri} is unreachable: {exc}",
            hint="Start Milvus or fix MILVUS_URI; unset it to use Milvus Lite.",
        ) from exc


def ensure_text_collection(milvus: Any) -> bool:
    """Create the full-text collection that sync fills and search reads; True if created.

    One row per indexed text (a Slack message, a Gong transcript turn, an Asana task) with
    a BM25 sparse vector computed by Milvus from `text`.
    """
    from pymilvus import DataType, Function, FunctionType

    if milvus.has_collection(TEXT_COLLECTION):
        return False
    schema = milvus.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=256)
    schema.add_field("source", DataType.VARCHAR, max_length=32)
    schema.add_field("kind", DataType.VARCHAR, max_length=32)
    schema.add_field("author", DataType.VARCHAR, max_length=256)
    schema.add_field("ts", DataType.INT64)
    schema.add_field("url", DataType.VARCHAR, max_length=1024)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX_LENGTH, enable_analyzer=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="text_bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    index = milvus.prepare_index_params()
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    milvus.create_collection(TEXT_COLLECTION, schema=schema, index_params=index)
    return True
