"""`sophia deploy render`: manifests valid against the Kubernetes schemas, safe by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from sophia_cli.core.deploy.manifests import DeployOptions, render_manifests
from sophia_cli.core.errors import UsageError
from sophia_cli.core.setting_specs import setting_specs

K8S_VERSION = "1.37.0"


def _by_kind(manifests: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {manifest["kind"]: manifest for manifest in manifests.values()}


def _pod_specs(manifests: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    kinds = _by_kind(manifests)
    return [
        kinds["Deployment"]["spec"]["template"]["spec"],
        kinds["Job"]["spec"]["template"]["spec"],
        kinds["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"],
    ]


@pytest.mark.parametrize(
    "options",
    [
        DeployOptions(),
        DeployOptions(
            replicas=1, legacy_port=8003, hosts=["a.example", "b.example"], tls_secret_name=None
        ),
    ],
)
def test_every_manifest_is_valid_against_the_kubernetes_schema(options: DeployOptions) -> None:
    for name, manifest in render_manifests(options).items():
        assert kubernetes_validate.validate(manifest, K8S_VERSION, strict=True), name


def test_rendering_writes_one_valid_file_per_manifest(sophia, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = sophia(
        "deploy",
        "render",
        "--replicas",
        "3",
        "--host",
        "api.example.com",
        "--out",
        str(tmp_path / "k8s"),
    )
    assert result.exit_code == 0, result.stderr
    files = sorted((tmp_path / "k8s").glob("*.yaml"))
    assert len(files) == 9  # five workloads, and one sync CronJob per source (four)
    kinds = set()
    for path in files:
        manifest = yaml.safe_load(path.read_text())
        kubernetes_validate.validate(manifest, K8S_VERSION, strict=True)
        kinds.add(manifest["kind"])
    assert kinds == {
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "CronJob",
        "Job",
    }


def test_stdout_is_one_multi_document_stream(sophia) -> None:  # type: ignore[no-untyped-def]
    result = sophia("deploy", "render", "--replicas", "5", "--image", "registry.local/sophia:1")
    documents = list(yaml.safe_load_all(result.stdout))
    assert len(documents) == 9
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 5
    assert (
        deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        == "registry.local/sophia:1"
    )


def test_api_probes_use_ready_and_health() -> None:
    container = _by_kind(render_manifests(DeployOptions()))["Deployment"]["spec"]["template"][
        "spec"
    ]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["limits"] and container["resources"]["requests"]


def test_every_pod_is_non_root_with_a_read_only_root_filesystem() -> None:
    for pod in _pod_specs(render_manifests(DeployOptions())):
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]


def test_secrets_are_referenced_never_inlined() -> None:
    secret_names = {spec.env_name for spec in setting_specs() if spec.secret}
    manifests = render_manifests(DeployOptions(secret_name="prod-secrets"))
    assert "Secret" not in _by_kind(manifests)
    for pod in _pod_specs(manifests):
        env = {item["name"]: item for item in pod["containers"][0]["env"]}
        assert secret_names <= set(env)
        for name in secret_names:
            assert "value" not in env[name]
            assert env[name]["valueFrom"]["secretKeyRef"] == {
                "name": "prod-secrets",
                "key": name,
                "optional": not next(
                    s for s in setting_specs() if s.env_name == name
                ).required_in_production,
            }


def _cronjobs(options: DeployOptions) -> dict[str, dict[str, Any]]:
    """The sync CronJobs by the source they run."""
    return {
        m["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]["sophia.dev/source"]: m
        for m in render_manifests(options).values()
        if m["kind"] == "CronJob"
    }


def test_each_source_gets_its_own_cronjob_that_never_overlaps() -> None:
    cronjobs = _cronjobs(DeployOptions())
    assert sorted(cronjobs) == ["asana", "gong", "hubspot", "slack"]
    for source, cronjob in cronjobs.items():
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
        job = cronjob["spec"]["jobTemplate"]["spec"]
        args = job["template"]["spec"]["containers"][0]["args"]
        assert args[:3] == ["sync", "run", source]
        # The run stops itself at a page boundary before Kubernetes' deadline kills it.
        box = int(args[args.index("--max-duration") + 1].removesuffix("s"))
        assert 0 < box < job["activeDeadlineSeconds"]
    assert len({c["spec"]["schedule"] for c in cronjobs.values()}) > 1


def test_schedules_can_be_set_for_all_sources_or_one() -> None:
    cronjobs = _cronjobs(
        DeployOptions(sync_schedule="0 * * * *", sync_schedules={"slack": "*/5 * * * *"})
    )
    assert cronjobs["slack"]["spec"]["schedule"] == "*/5 * * * *"
    assert cronjobs["gong"]["spec"]["schedule"] == "0 * * * *"


def test_a_schedule_for_an_unknown_source_is_refused_in_one_line() -> None:
    with pytest.raises(UsageError, match="unknown source: salesforce"):
        render_manifests(DeployOptions(sync_schedules={"salesforce": "0 * * * *"}))


def test_upgrade_job_runs_db_upgrade() -> None:
    job = _by_kind(render_manifests(DeployOptions()))["Job"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]


def test_ingress_routes_each_host_to_the_api_port_not_metrics() -> None:
    ingress = _by_kind(render_manifests(DeployOptions(hosts=["a.example", "b.example"])))["Ingress"]
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == ["a.example", "b.example"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["port"] == {"name": "http"}


def test_autoscaler_floor_is_the_replica_count() -> None:
    hpa = _by_kind(render_manifests(DeployOptions(replicas=3)))["HorizontalPodAutoscaler"]
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] == 9


def test_legacy_port_is_served_and_exposed_only_when_asked() -> None:
    plain = _by_kind(render_manifests(DeployOptions()))
    legacy = _by_kind(render_manifests(DeployOptions(legacy_port=8003)))
    assert (
        "--legacy-port"
        not in plain["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    )
    args = legacy["Deployment"]["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--legacy-port") + 1] == "8003"
    assert {"name": "legacy", "port": 8003, "targetPort": "legacy"} in legacy["Service"]["spec"][
        "ports"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replicas", "0"], "--replicas"),
        (["--replicas", "4", "--max-replicas", "2"], "--max-replicas must be at least"),
        (["--namespace", "Bad_Name"], "--namespace"),
    ],
)
def test_bad_options_are_one_clear_error(sophia, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = sophia("deploy", "render", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
