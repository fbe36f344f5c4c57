"""`deploy render --secrets external`: the Secret comes from AWS Secrets Manager through the
External Secrets Operator instead of `kubectl create secret`.

An `ExternalSecret` fills the same Secret the pods already reference (`--secret-name`), so
nothing else in the manifests changes. Each secret setting is a Secrets Manager secret named
`<prefix><VARIABLE>` (default prefix `sophia/`): the ones production requires are listed one
by one (a missing one fails the ExternalSecret loudly), the optional ones are picked up by
prefix when they exist.
"""

from __future__ import annotations

import re

from sophia_cli.core.deploy.pods import DeployOptions, Manifest, meta
from sophia_cli.core.env.aws_refs import PREFIX, VARIABLE_SECRET_PATTERN, secret_id
from sophia_cli.core.setting_specs import setting_specs

DEFAULT_STORE = "aws-secrets-manager"


def external_secret(options: DeployOptions, store: str = DEFAULT_STORE) -> Manifest:
    """An ExternalSecret (external-secrets.io/v1) writing the pods' Secret."""
    strip_prefix = {"source": f"^{re.escape(PREFIX)}(.*)$", "target": "$1"}
    required = [s.env_name for s in setting_specs() if s.secret and s.required_in_production]
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": meta(options, options.secret_name, "secrets"),
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": store},
            "target": {"name": options.secret_name, "creationPolicy": "Owner"},
            "data": [
                {"secretKey": name, "remoteRef": {"key": secret_id(name)}} for name in required
            ],
            "dataFrom": [
                {
                    "find": {"name": {"regexp": VARIABLE_SECRET_PATTERN}},
                    "rewrite": [{"regexp": strip_prefix}],
                }
            ],
        },
    }
