"""Show values without revealing secrets: at most a short, well-known prefix survives."""

from __future__ import annotations

import re

from sophia_cli.core import urls

# Public prefixes that say what a token is without saying anything about its secret part.
_KNOWN_PREFIXES = (
    "sk-ant-api03-",
    "sk-or-v1-",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-litellm-",
    "sk-",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xapp-",
    "pat-na1-",
    "pat-eu1-",
    "pat-",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "AKIA",
    "SG.",
)
_SECRETISH_NAME = re.compile(
    r"(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|WEBHOOK)", re.I
)
MASK = urls.MASK


def name_looks_secret(name: str) -> bool:
    """Whether a variable name suggests its value is a secret."""
    return bool(_SECRETISH_NAME.search(name))


def mask_secret(value: str) -> str:
    """A secret as `prefix•••` (known token prefix or URL without its password) or `•••`."""
    if not value:
        return ""
    if "://" in value:
        return _mask_url(value)
    for prefix in _KNOWN_PREFIXES:
        if value.startswith(prefix) and len(value) > len(prefix) + 8:
            return prefix + MASK
    return MASK


def display_value(value: str | None, *, secret: bool) -> str | None:
    """The value as `env check` shows it: plain when not secret, masked otherwise."""
    if value is None:
        return None
    return mask_secret(value) if secret else value


def _mask_url(value: str) -> str:
    return urls.mask(value)
