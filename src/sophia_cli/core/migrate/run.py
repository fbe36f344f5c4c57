"""The migrate core as one import for both faces (CLI and HTTP)."""

from __future__ import annotations

from sophia_cli.core.migrate.apply import apply_preview
from sophia_cli.core.migrate.compute import compute_plan
from sophia_cli.core.migrate.history import history
from sophia_cli.core.migrate.plan import Plan, load_plan, parse_plan, ports_plan, preset_names
from sophia_cli.core.migrate.rollback import rollback
from sophia_cli.core.migrate.scan import scan_ports
from sophia_cli.core.migrate.verify import apply_verified

__all__ = [
    "Plan",
    "apply_preview",
    "apply_verified",
    "compute_plan",
    "history",
    "load_plan",
    "parse_plan",
    "ports_plan",
    "preset_names",
    "rollback",
    "scan_ports",
]
