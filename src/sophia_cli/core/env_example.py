"""Render `.env.example` from the settings model, so the template can never drift."""

from __future__ import annotations

from sophia_cli.core.setting_specs import SettingSpec, setting_specs
from sophia_cli.core.settings import PLACEHOLDER, Section

_HEADER = """\
# sophia configuration template. Generated from src/sophia_cli/core/settings.py by
# `sophia env consolidate --write-example`; edit the model, not this file.
#
# Layers, lowest to highest precedence: this file, .env.development or .env.production
# (chosen by SOPHIA_ENV), .env.master (your overrides, mode 600), the process environment.
# Every store has an embedded default: leave DATABASE_URL, REDIS_URL and MILVUS_URI unset
# on a laptop and sophia runs PostgreSQL, Valkey and Milvus Lite under SOPHIA_HOME.
"""


def render_env_example() -> str:
    """The full text of `.env.example` for the current settings model."""
    parts = [_HEADER]
    current: Section | None = None
    for spec in setting_specs():
        if spec.section is not current:
            current = spec.section
            parts.append(f"\n# --- {current.value} ---\n")
        parts.append(_render_spec(spec))
    return "".join(parts)


def _render_spec(spec: SettingSpec) -> str:
    flags = []
    if spec.required_in_production:
        flags.append("required in production")
    if spec.secret:
        flags.append("secret")
    suffix = f" ({', '.join(flags)})" if flags else ""
    lines = [f"# {spec.description}{suffix}", f"# e.g. {spec.example}"]
    if spec.deprecated_names:
        lines.append(f"# replaces the deprecated {', '.join(spec.deprecated_names)}")
    lines.append(f"{spec.env_name}={_template_value(spec)}")
    return "\n".join(lines) + "\n"


def _template_value(spec: SettingSpec) -> str:
    if spec.required_in_production or spec.secret:
        return PLACEHOLDER
    if spec.default is None:
        return ""
    return str(spec.default.value if hasattr(spec.default, "value") else spec.default)
