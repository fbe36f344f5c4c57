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


TEXT_FIELDS = {  # VARCHAR fields of a search unit and their byte limits
    "id": 256, "source": 32, "kind": 32, "author": 256, "author_name": 256, "author_key": 256,
    "affiliation": 16, "place": 256, "place_name": 256, "place_key": 256, "url": 1024,
    "context": TEXT_MAX_LENGTH, "fingerprint": 64,
}  # fmt: skip
_SIGNATURE = "sophia.embedder"
_SCHEMA = "sophia.schema"
TEXT_SCHEMA = "4"  # bump when fields or the analysis change: the collection is rebuilt


def ensure_text_collection(milvus: Any, signature: str, dim: int) -> bool:
    """Create the search collection that sync fills and search reads; True if created.

    One row per search unit (a Slack message with its thread, a Gong speaker turn with its
    neighbours, an Asana task): BM25 sparse vectors computed by Milvus from `text`, and
    dense vectors of `dim` from the embedder whose `signature` the description records.
    A collection built by another embedder is dropped and created anew (its vectors would
    be compared with the wrong space): the caller re-indexes everything then.
    """
    from pymilvus import DataType, Function, FunctionType

    if milvus.has_collection(TEXT_COLLECTION):
        properties = milvus.describe_collection(TEXT_COLLECTION).get("properties") or {}
        if properties.get(_SIGNATURE) == signature and properties.get(_SCHEMA) == TEXT_SCHEMA:
            return False
        milvus.drop_collection(TEXT_COLLECTION)
    schema = milvus.create_schema(auto_id=False, enable_dynamic_field=False)
    for name, limit in TEXT_FIELDS.items():
        schema.add_field(name, DataType.VARCHAR, max_length=limit, is_primary=name == "id")
    schema.add_field("ts", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX_LENGTH, enable_analyzer=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
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
    index.add_index(field_name="dense", index_type="FLAT", metric_type="COSINE")
    milvus.create_collection(
        TEXT_COLLECTION, schema=schema, index_params=index,
        properties={_SIGNATURE: signature, _SCHEMA: TEXT_SCHEMA},
    )  # fmt: skip
    return True


_STATE = "sophia.state."


def source_states(milvus: Any) -> dict[str, str]:
    """What each source's warehouse looked like when its units were last indexed."""
    properties = milvus.describe_collection(TEXT_COLLECTION).get("properties") or {}
    return {k[len(_STATE) :]: str(v) for k, v in properties.items() if k.startswith(_STATE)}


def record_source_states(milvus: Any, states: dict[str, str]) -> None:
    """Remember the warehouse states the collection now reflects (a new collection has none)."""
    if states:
        properties = {f"{_STATE}{source}": state for source, state in states.items()}
        milvus.alter_collection_properties(TEXT_COLLECTION, properties=properties)


def collection_signature(milvus: Any) -> str | None:
    """The embedder signature the search collection was built with (None: none recorded)."""
    properties = milvus.describe_collection(TEXT_COLLECTION).get("properties") or {}
    value = properties.get(_SIGNATURE)
    return str(value) if value else None
