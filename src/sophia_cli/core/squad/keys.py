"""Deployment keys, and whether any deployment has one, known without routing.

Routing a request validates the squads file into models, reads the price map and asks Redis
for cooldowns: ~100 ms that `sophia ask` paid on every question only to learn that no model
is configured (the usual offline case). `any_keyed` reads the squads file as plain YAML and
looks for one deployment whose key is set or that needs none. It answers False only when
routing would skip every deployment for "no key"; when it finds one, or cannot tell, the
router decides as before.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from sophia_cli.core.settings import Settings

PROXY_SQUAD = "litellm"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def key_value(settings: Settings, env_name: str) -> str | None:
    """A key by variable name: a declared setting (env files, keyring) else the process env."""
    field = env_name.lower()
    if field in type(settings).model_fields:
        return settings.secret_value(field)
    value = os.environ.get(env_name, "").strip()
    return value or None


def any_keyed(settings: Settings) -> bool:
    """Whether some deployment of the squads file could have its key (True when unsure)."""
    from sophia_cli.core.squad.config import squads_path

    try:
        data = yaml.load(squads_path(settings).read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
        squads = data["squads"]
        return any(_keyed(settings, name, dep) for name, squad in squads.items()
                   for dep in squad["deployments"])  # fmt: skip
    except (OSError, yaml.YAMLError, LookupError, TypeError, AttributeError):
        return True  # a file routing will refuse with its own clear error


def _keyed(settings: Settings, squad: str, deployment: dict[str, Any]) -> bool:
    # The same choice as llm.endpoint: the proxy's key for the litellm squad behind
    # LITELLM_API_BASE, else the deployment's own key variable (none needed when unnamed).
    if squad == PROXY_SQUAD and settings.litellm_api_base and deployment.get("api_base") is None:
        return key_value(settings, "LITELLM_API_KEY") is not None
    key_env = deployment.get("api_key_env")
    if not isinstance(key_env, str):
        return True
    return key_value(settings, key_env) is not None
