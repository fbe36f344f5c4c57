"""`deploy render --secrets external`: an ExternalSecret fills, from AWS Secrets Manager, the
very Secret every pod references, with each variable the pods read.

Rendered and checked here; the External Secrets Operator was not run (on paper). The names it
reads are checked against what `sophia secrets set` writes into moto's Secrets Manager.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sophia_cli.core.deploy.external_secrets import external_secret
from sophia_cli.core.deploy.manifests import render_manifests
from sophia_cli.core.deploy.pods import DeployOptions
from sophia_cli.core.setting_specs import setting_specs


def _secret_refs(manifests: dict[str, Any]) -> set[tuple[str, str]]:
    """(Secret name, key) of every secretKeyRef in the manifests."""
    found: set[tuple[str, str]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("secretKeyRef")
            if isinstance(ref, dict):
                found.add((ref["name"], ref["key"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(manifests)
    return found


def _filled(spec: dict[str, Any], remote_names: list[str]) -> set[str]:
    """Keys the operator would write, given the secrets that exist in Secrets Manager."""
    keys = {item["secretKey"] for item in spec["data"] if item["remoteRef"]["key"] in remote_names}
    for source in spec["dataFrom"]:
        pattern = re.compile(source["find"]["name"]["regexp"])
        rewrite = source["rewrite"][0]["regexp"]
        for name in filter(pattern.search, remote_names):
            keys.add(re.sub(rewrite["source"], rewrite["target"].replace("$1", r"\1"), name))
    return keys


def test_it_fills_the_secret_the_pods_reference_with_every_key_they_read() -> None:
    options = DeployOptions(secret_name="prod-secrets")
    refs = _secret_refs(render_manifests(options))
    spec = external_secret(options)["spec"]
    assert {name for name, _ in refs} == {spec["target"]["name"]} == {"prod-secrets"}
    every = [f"sophia/{key}" for _, key in refs]
    assert _filled(spec, every) == {key for _, key in refs}


def test_production_secrets_are_listed_so_a_missing_one_fails_loudly() -> None:
    listed = {item["secretKey"] for item in external_secret(DeployOptions())["spec"]["data"]}
    required = {s.env_name for s in setting_specs() if s.secret and s.required_in_production}
    assert listed == required


def test_optional_secrets_are_picked_up_by_prefix_only_when_they_exist() -> None:
    spec = external_secret(DeployOptions())["spec"]
    present = ["sophia/SENTRY_DSN", "team/other/OPENAI_API_KEY", "sophia/lowercase", "sophia/"]
    assert _filled(spec, present) == {"SENTRY_DSN"}


def test_it_reads_the_very_secrets_the_aws_backend_writes_and_references_name(
    aws: str,
) -> None:
    import boto3

    from sophia_cli.core.env.aws_refs import parse_reference, reference_to
    from sophia_cli.core.env.secrets import open_secret_store, set_secrets
    from sophia_cli.core.settings import load_settings

    # What `sophia secrets set` stores with SOPHIA_SECRETS_BACKEND=aws (one write each).
    store = open_secret_store(load_settings(sophia_secrets_backend="aws"))
    secrets = [s.env_name for s in setting_specs() if s.secret]
    set_secrets(store, {name: f"value-of-{name}-0123456789" for name in secrets})
    client = boto3.client("secretsmanager", endpoint_url=aws, region_name="eu-central-1")
    written = [item["Name"] for item in client.list_secrets(MaxResults=100)["SecretList"]]
    spec = external_secret(DeployOptions())["spec"]
    assert {item["remoteRef"]["key"] for item in spec["data"]} <= set(written)
    assert _filled(spec, written) == set(secrets)
    assert {parse_reference(reference_to(name)).secret_id for name in secrets} == set(written)


def test_render_secrets_external_adds_the_external_secret(
    sophia: Callable[..., Any], tmp_path: Path
) -> None:
    result = sophia(
        "deploy", "render", "--secrets", "external", "--secret-store", "aws-prod", "--out",
        str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    manifest = yaml.safe_load((tmp_path / "externalsecret.yaml").read_text())
    assert manifest["kind"] == "ExternalSecret"
    assert manifest["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "aws-prod"}


def test_by_default_no_external_secret_is_rendered(
    sophia: Callable[..., Any], tmp_path: Path
) -> None:
    assert sophia("deploy", "render", "--out", str(tmp_path)).exit_code == 0
    assert not (tmp_path / "externalsecret.yaml").exists()


def test_an_unknown_secrets_mode_is_one_usage_line(sophia: Callable[..., Any]) -> None:
    result = sophia("deploy", "render", "--secrets", "vault")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --secrets: 'vault' is not kubernetes or external")
