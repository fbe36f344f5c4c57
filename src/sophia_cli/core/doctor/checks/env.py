"""Configuration: `sophia env check` of the current directory, as a doctor check."""

from __future__ import annotations

from pathlib import Path

from sophia_cli.core.doctor.models import Outcome, fail, ok, warn
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.env.project import find_project_dir
from sophia_cli.core.settings import Settings


@check("env files", "config", timeout_s=5.0)
def env_configuration(settings: Settings) -> Outcome:
    """Errors in the layered configuration fail; warnings warn."""
    from sophia_cli.core.env.check import check_environment
    from sophia_cli.core.env.findings import Severity

    report = check_environment(find_project_dir(Path.cwd()), settings.sophia_env)
    s = report.summary
    first = next((f for f in report.findings if f.severity is not Severity.INFO), None)
    example = f"; first: {first.code}: {first.message}" if first else ""
    if s.errors:
        return fail(f"{s.errors} error(s), {s.warnings} warning(s){example} (sophia env check)")
    if s.warnings:
        return warn(f"{s.warnings} warning(s){example} (sophia env check)")
    layers = ", ".join(report.layers) or "no env files"
    return ok(f"{report.environment.value}: {layers}; no problems")
