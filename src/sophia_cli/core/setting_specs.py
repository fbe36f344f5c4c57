"""Read the documentation each settings field carries: for `.env.example`, `env check`,
the doctor and production requirements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo

from sophia_cli.core.settings import PLACEHOLDER, Section, Settings


@dataclass(frozen=True)
class SettingSpec:
    """Documentation of one environment variable, read from the model."""

    env_name: str
    field_name: str
    section: Section
    description: str
    example: str
    secret: bool
    required_in_production: bool
    deprecated_names: tuple[str, ...]
    default: Any


def _spec(field_name: str, info: FieldInfo) -> SettingSpec:
    extra = info.json_schema_extra
    assert isinstance(extra, dict), f"{field_name} must be declared with setting()"
    deprecated = extra.get("deprecated_names") or []
    assert isinstance(deprecated, list)
    return SettingSpec(
        env_name=field_name.upper(),
        field_name=field_name,
        section=Section(str(extra["section"])),
        description=info.description or "",
        example=str(extra["example"]),
        secret=bool(extra["secret"]),
        required_in_production=bool(extra["required_in_production"]),
        deprecated_names=tuple(str(name) for name in deprecated),
        default=info.default,
    )


def setting_specs() -> list[SettingSpec]:
    """Every setting's documentation, grouped by section in declaration order."""
    specs = [_spec(name, info) for name, info in Settings.model_fields.items()]
    order = list(Section)
    return sorted(specs, key=lambda spec: order.index(spec.section))


def spec_by_env_name() -> dict[str, SettingSpec]:
    """Settings documentation keyed by environment variable name."""
    return {spec.env_name: spec for spec in setting_specs()}


def deprecated_names() -> dict[str, str]:
    """Deprecated variable names mapped to the variable that replaces them."""
    return {old: spec.env_name for spec in setting_specs() for old in spec.deprecated_names}


def missing_in_production(settings: Settings) -> list[SettingSpec]:
    """Settings production requires that are unset or still a placeholder."""
    missing = []
    for spec in setting_specs():
        if not spec.required_in_production:
            continue
        value = settings.secret_value(spec.field_name)
        if value is None or value.strip() == "" or PLACEHOLDER in value:
            missing.append(spec)
    return missing
