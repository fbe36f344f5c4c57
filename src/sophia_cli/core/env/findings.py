"""Findings: one problem each, about a variable or a `file:line`, never carrying a secret."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Severity(StrEnum):
    """How bad a finding is; errors fail `env check`, warnings only with --strict."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(BaseModel):
    """One problem found in the layered configuration."""

    severity: Severity
    code: str
    message: str
    variable: str | None = None
    file: str | None = None
    line: int | None = None
    hint: str | None = None


def error(code: str, message: str, **where: object) -> Finding:
    """An error finding (see Finding for the `where` fields)."""
    return Finding(severity=Severity.ERROR, code=code, message=message, **where)


def warning(code: str, message: str, **where: object) -> Finding:
    """A warning finding."""
    return Finding(severity=Severity.WARNING, code=code, message=message, **where)


def info(code: str, message: str, **where: object) -> Finding:
    """An informational finding."""
    return Finding(severity=Severity.INFO, code=code, message=message, **where)


# Every code `env check` can report, with a one-line description (used for SARIF rules).
CHECK_CODES: dict[str, str] = {
    "parse-error": "A line python-dotenv cannot parse (it is ignored).",
    "dialect-hazard": "A line other dotenv dialects read differently.",
    "duplicate-key": "A key assigned more than once in one file (the last one wins).",
    "layer-conflict": "The same key has different values in two layers.",
    "missing-required": "A variable this environment requires is unset.",
    "placeholder": "A value is still a template placeholder such as CHANGEME.",
    "malformed-value": "A value does not have the expected format (URL scheme, token prefix).",
    "weak-secret": "A secret is too short or has too little entropy.",
    "reused-secret": "The same secret value is used by two variables.",
    "deprecated-variable": "A deprecated variable is set; its replacement is named.",
    "unknown-variable": "A variable sophia does not know (maybe a typo).",
    "file-permissions": "An env file with secrets is readable by others or owned by someone else.",
    "not-gitignored": "An env file with real values is not ignored by git.",
    "tracked-by-git": "An env file with real values is committed to git.",
    "keyring-unavailable": "The keyring layer could not be read.",
    "secret-unresolved": "A secret reference (aws-sm://) or the secrets backend could not be read.",
}
