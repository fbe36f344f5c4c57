"""Show values without revealing secrets: at most a short, well-known prefix survives."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

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
MASK = "•••"


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
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    # The host says where the store is, which is useful and not secret; the rest may be.
    credentials = f"{MASK}@" if parts.username or parts.password else ""
    return (
        f"{parts.scheme}://{credentials}{host}{port}/{MASK}"
        if parts.path.strip("/")
        else (f"{parts.scheme}://{credentials}{host}{port}")
    )
