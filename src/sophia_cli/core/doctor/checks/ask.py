"""Ask: the semantic layer loads, and its SQL runs as the read-only role where possible."""

from __future__ import annotations

from sophia_cli.core.doctor.embedded import postgres_stopped
from sophia_cli.core.doctor.models import Outcome, fail, ok, warn
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.errors import SophiaError
from sophia_cli.core.settings import Settings


@check("semantic layer", "ask", timeout_s=3.0, required=False)
def semantic_layer(settings: Settings) -> Outcome:
    """The shipped layer plus SOPHIA_SEMANTIC_FILE parse and reference only known names."""
    from sophia_cli.core.bi.semantic import load_layer

    try:
        layer = load_layer(settings.sophia_semantic_file)
    except SophiaError as exc:
        return fail(exc.message)
    extra = (
        f", extended by {settings.sophia_semantic_file}" if settings.sophia_semantic_file else ""
    )
    return ok(f"{len(layer.metrics)} metrics over {len(layer.models)} models{extra}")


@check("ask read-only role", "ask", timeout_s=5.0, required=False)
def reader_role(settings: Settings) -> Outcome:
    """`ask` and `query` run as sophia_reader when the connecting user may switch to it."""
    from sophia_cli.core.bi.execute import Reader

    if (stopped := postgres_stopped(settings)) is not None:
        return stopped
    try:
        with Reader(settings) as reader:
            uses_role = reader.uses_reader_role()
    except SophiaError as exc:
        return fail(exc.message)
    if uses_role:
        return ok("queries run as sophia_reader in READ ONLY transactions")
    return warn(
        "sophia_reader is not available: queries run as the connecting user, still READ ONLY"
    )
