"""Checks on effective values: missing, placeholder, malformed, weak and reused secrets."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from sophia_cli.core import urls
from sophia_cli.core.env.entropy import shannon_entropy
from sophia_cli.core.env.findings import Finding, Severity, error
from sophia_cli.core.env.layers import EXAMPLE_FILE, Assignment, is_set
from sophia_cli.core.setting_specs import SettingSpec
from sophia_cli.core.settings import PLACEHOLDER, Environment, Settings

JWT_MIN_LENGTH = 64
JWT_MIN_BITS_PER_CHAR = 3.0
_PLACEHOLDER = re.compile(
    r"^(<[^>]*>|x{3,}|\.{3}|todo|tbd|replace[-_ ]?me|change[-_ ]?me|your[-_ ].*|placeholder)$",
    re.IGNORECASE,
)
_CONNINFO = re.compile(r"^\s*[a-z_]+\s*=")


def is_placeholder(value: str) -> bool:
    """Whether a value is a template placeholder rather than a real value."""
    stripped = value.strip()
    return PLACEHOLDER in stripped or bool(_PLACEHOLDER.match(stripped))


def _url_with(*schemes: str, conninfo: bool = False) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if conninfo and "://" not in value and _CONNINFO.match(value):
            return None  # a libpq key=value conninfo is also accepted by psycopg
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme not in schemes:
            return f"must start with {' or '.join(s + '://' for s in schemes)}"
        reason = urls.problem(value)
        return f"is malformed: {reason}" if reason else None

    return check


def _prefix(*prefixes: str, not_prefix: str | None = None) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if value.startswith(prefixes) and not (not_prefix and value.startswith(not_prefix)):
            return None
        return f"does not look like one: expected a token starting with {' or '.join(prefixes)}"

    return check


# Format checks per variable; each returns what is wrong, or None.
FORMATS: dict[str, Callable[[str], str | None]] = {
    "DATABASE_URL": _url_with("postgres", "postgresql", conninfo=True),
    "REDIS_URL": _url_with("redis", "rediss", "unix"),
    "SLACK_BOT_TOKEN": _prefix("xoxb-"),
    "OPENAI_API_KEY": _prefix("sk-", not_prefix="sk-ant-"),
    "ANTHROPIC_API_KEY": _prefix("sk-ant-"),
    "HUBSPOT_API_KEY": _prefix("pat-"),
    "SQUAD_ALERT_WEBHOOK": _url_with("https"),
    "LITELLM_API_BASE": _url_with("http", "https"),
    "SLACK_API_BASE": _url_with("http", "https"),
    "ASANA_API_BASE": _url_with("http", "https"),
    "HUBSPOT_API_BASE": _url_with("http", "https"),
    "GONG_API_BASE": _url_with("http", "https"),
}


def check_values(
    effective: dict[str, Assignment], specs: dict[str, SettingSpec], environment: Environment
) -> list[Finding]:
    """Every value problem of the winning assignments, for this environment."""
    findings: list[Finding] = []
    for name, spec in specs.items():
        assignment = effective.get(name)
        findings.extend(_check_one(name, spec, assignment, environment))
    findings.extend(_reused_secrets(effective, specs))
    return findings


def _check_one(
    name: str, spec: SettingSpec, assignment: Assignment | None, environment: Environment
) -> list[Finding]:
    value = assignment.value if assignment else None
    where = _where(name, assignment)
    production = environment is Environment.PRODUCTION
    if value is not None and value.strip() and is_placeholder(value):
        if assignment and assignment.layer != EXAMPLE_FILE:
            severity = Severity.ERROR if production else Severity.WARNING
            return [
                Finding(
                    severity=severity,
                    code="placeholder",
                    message=f"{name} is still a placeholder",
                    **where,
                )
            ]
        value = None  # the template's placeholder is simply "unset"
    if not is_set(value):
        if production and spec.required_in_production:
            return [
                error(
                    "missing-required",
                    f"{name} is required in production: {spec.description}",
                    hint=f"e.g. {name}={spec.example}",
                    **where,
                )
            ]
        return []
    assert value is not None
    return _malformed(name, spec, value, where) + _weak(name, value, where)


def _malformed(name: str, spec: SettingSpec, value: str, where: dict[str, object]) -> list[Finding]:
    problem = FORMATS[name](value) if name in FORMATS else None
    if problem is None:
        problem = _type_problem(spec, value)
    if problem is None:
        return []
    return [
        error("malformed-value", f"{name} {problem}", hint=f"e.g. {name}={spec.example}", **where)
    ]


def _type_problem(spec: SettingSpec, value: str) -> str | None:
    field = Settings.model_fields[spec.field_name]
    if field.annotation is None:
        return None
    # The field's bounds travel with its type, so SOPHIA_PORT=99999 is caught here too.
    checked: Any = (
        Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
    )
    try:
        TypeAdapter(checked).validate_python(value)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        return (
            f"is not valid: {message}"
            if spec.secret
            else f"is not valid: {message} (got {value!r:.40})"
        )
    return None


def _weak(name: str, value: str, where: dict[str, object]) -> list[Finding]:
    if name not in ("JWT_SECRET", "JWT_SECRET_PREVIOUS"):
        return []
    if len(value) < JWT_MIN_LENGTH:
        message = f"{name} has {len(value)} characters; at least {JWT_MIN_LENGTH} are required"
    elif shannon_entropy(value) < JWT_MIN_BITS_PER_CHAR:
        message = f"{name} has too little entropy (repeated or patterned characters)"
    else:
        return []
    return [error("weak-secret", message, hint="Generate one: `openssl rand -hex 32`", **where)]


def _reused_secrets(
    effective: dict[str, Assignment], specs: dict[str, SettingSpec]
) -> list[Finding]:
    by_value: dict[str, list[str]] = {}
    for name, spec in specs.items():
        assignment = effective.get(name)
        if spec.secret and assignment and is_set(assignment.value) and assignment.value:
            if not is_placeholder(assignment.value):
                by_value.setdefault(assignment.value, []).append(name)
    findings = []
    for names in by_value.values():
        if len(names) > 1:
            listed = " and ".join(sorted(names))
            findings.append(
                error(
                    "reused-secret",
                    f"{listed} hold the same secret value",
                    variable=sorted(names)[0],
                    hint="Give every credential its own value.",
                )
            )
    return findings


def _where(name: str, assignment: Assignment | None) -> dict[str, object]:
    where: dict[str, object] = {"variable": name}
    if assignment and assignment.file is not None:
        where["file"] = str(assignment.file)
        where["line"] = assignment.line
    return where


def relative(path: Path, directory: Path) -> str:
    """A path relative to the checked directory when inside it."""
    try:
        return str(path.resolve().relative_to(directory.resolve()))
    except ValueError:
        return str(path)
