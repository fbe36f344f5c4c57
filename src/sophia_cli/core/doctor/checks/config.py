"""Configuration: does this environment have what it needs?"""

from __future__ import annotations

from sophia_cli.core.doctor.models import Outcome, fail, ok
from sophia_cli.core.doctor.registry import check
from sophia_cli.core.setting_specs import missing_in_production, setting_specs
from sophia_cli.core.settings import Settings


@check("configuration", "config", timeout_s=2.0)
def required_settings(settings: Settings) -> Outcome:
    """Production needs every required variable set to a real value."""
    missing = missing_in_production(settings)
    if settings.is_production and missing:
        names = ", ".join(spec.env_name for spec in missing)
        return fail(f"production is missing {names}")
    required = [spec for spec in setting_specs() if spec.required_in_production]
    if settings.is_production:
        return ok(f"production: all {len(required)} required variables set")
    present = len(required) - len(missing)
    return ok(
        f"development: {present}/{len(required)} production variables set; "
        "unset stores use the embedded defaults"
    )
