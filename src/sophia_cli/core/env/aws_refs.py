"""Names in AWS Secrets Manager: the one declaration shared by the `aws` secrets backend,
`aws-sm://` setting values and `deploy render --secrets external`.

A variable `JWT_SECRET` lives in the secret `sophia/JWT_SECRET`; a setting refers to any
secret as `aws-sm://NAME`, or to one key of a JSON secret as `aws-sm://NAME#key` (the
`remoteRef.key` / `property` pair of an External Secrets `ExternalSecret`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sophia_cli.core.errors import InputError

PREFIX = "sophia/"
SCHEME = "aws-sm://"
# Secrets Manager allows letters, digits and /_+=.@- in names.
_REFERENCE = re.compile(r"^aws-sm://([A-Za-z0-9/_+=.@-]{1,512})(?:#([^#\s]+))?$")
_VARIABLE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# The names `deploy render --secrets external` picks up by prefix (what the backend writes).
VARIABLE_SECRET_PATTERN = f"^{re.escape(PREFIX)}[A-Z][A-Z0-9_]*$"


@dataclass(frozen=True)
class AwsReference:
    """A parsed `aws-sm://NAME[#key]` value."""

    secret_id: str
    json_key: str | None = None

    def __str__(self) -> str:
        return SCHEME + self.secret_id + (f"#{self.json_key}" if self.json_key else "")


def secret_id(variable: str) -> str:
    """The Secrets Manager name that holds `variable`, e.g. `sophia/JWT_SECRET`."""
    return PREFIX + variable


def variable_of(name: str) -> str | None:
    """The variable a Secrets Manager name holds, or None when it is not one of ours."""
    if not name.startswith(PREFIX):
        return None
    variable = name[len(PREFIX) :]
    return variable if _VARIABLE.match(variable) else None


def reference_to(variable: str) -> str:
    """The setting value that reads `variable` from where the backend writes it."""
    return SCHEME + secret_id(variable)


def is_reference(value: str | None) -> bool:
    """Whether a value is meant as an `aws-sm://` reference (well-formed or not)."""
    return value is not None and value.strip().startswith(SCHEME)


def parse_reference(value: str) -> AwsReference:
    """The reference in `value`; InputError when it is not well formed."""
    match = _REFERENCE.match(value.strip())
    if not match:
        raise InputError(
            f"{value.strip()!r} is not an AWS Secrets Manager reference",
            hint="Write aws-sm://NAME, or aws-sm://NAME#key for one key of a JSON secret.",
        )
    return AwsReference(match.group(1), match.group(2))
