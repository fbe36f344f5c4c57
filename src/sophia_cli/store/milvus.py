"""Milvus connections: MILVUS_URI when set, else Milvus Lite in a file under SOPHIA_HOME.

pymilvus is heavy to import, so it is imported only inside these functions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sophia_cli.core.errors import ConfigError, ServiceUnavailableError
from sophia_cli.core.settings import Settings

TEXT_COLLECTION = "sophia_text"
TEXT_MAX_LENGTH = 8192


def is_embedded(settings: Settings) -> bool:
    return settings.milvus_uri is None


def resolve_uri(settings: Settings) -> str:
    """The Milvus URI: MILVUS_URI, or the Milvus Lite file path."""
    if settings.milvus_uri:
        return settings.milvus_uri
    path = lite_path(settings.home)
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


def lite_path(home: Path) -> Path:
    return home / "milvus" / "sophia.db"


def client(settings: Settings, *, timeout_s: float = 10.0) -> Any:
    """A MilvusClient, or ServiceUnavailableError saying where and why."""
    # Before importing pymilvus: it parses MILVUS_URI from the environment at import time.
    if settings.milvus_uri and "://" not in settings.milvus_uri:
        raise ConfigError(
            f"MILVUS_URI {settings.milvus_uri} is a file path, not a Milvus server URL",
            hint="Use http://host:19530, or unset MILVUS_URI for the embedded Milvus Lite "
            "(its data lives under SOPHIA_HOME).",
        )
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


def start_lite_server(home: Path, port: int, timeout_s: float = 60.0) -> Any:
    """Run Milvus Lite as a server process on 127.0.0.1:`port` over the embedded data.

    In file mode each process opens Milvus Lite for itself, and a second process cannot
    share the file; `sophia serve --workers N` starts one server for all its workers.
    Returns the process (a subprocess.Popen); ServiceUnavailableError if it does not come up.
    """
    import socket
    import subprocess
    import sys
    import time

    path = lite_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(path),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise ServiceUnavailableError(
        f"Milvus Lite did not start as a server for the workers (data in {path})",
        hint="Run with --workers 1, or set MILVUS_URI to a Milvus server.",
    )
