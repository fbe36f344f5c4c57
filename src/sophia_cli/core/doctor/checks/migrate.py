"""Migration leftovers: the legacy port or OpenRouter still referenced in this tree."""

from __future__ import annotations

from pathlib import Path

from sophia_cli.core.doctor.models import Outcome, ok, warn
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.env.project import find_project_dir
from sophia_cli.core.settings import Settings

# Doctor answers in seconds even from a large folder: the scan stops at whichever comes first.
MAX_FILES = 5000
BUDGET_S = 2.0


@check("legacy-references", "migrate", timeout_s=5.0, required=False)
def legacy_references(settings: Settings) -> Outcome:
    """The current tree should no longer use the legacy port or OpenRouter."""
    from sophia_cli.core.migrate.scan import legacy_references as find

    port = settings.sophia_legacy_port
    report = find(find_project_dir(Path.cwd()), port, max_files=MAX_FILES, max_seconds=BUDGET_S)
    scope = f"{report.files_scanned} files"
    if report.truncated:
        scope += f" (the scan stops at {MAX_FILES} files or {BUDGET_S:g} s; the rest was not read)"
    if not report.port_uses and not report.openrouter:
        return ok(f"no legacy port {port} or OpenRouter reference in {scope}")
    where = ", ".join(report.files[:3]) + (" …" if len(report.files) > 3 else "")
    return warn(
        f"{report.port_uses} use(s) of legacy port {port} and {report.openrouter} OpenRouter "
        f"reference(s) in {len(report.files)} file(s) ({where}); run `sophia migrate ports` "
        "and `sophia migrate run openrouter-to-litellm`"
    )
