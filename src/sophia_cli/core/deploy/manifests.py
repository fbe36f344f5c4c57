"""Kubernetes manifests for sophia: the API, its autoscaler and ingress, sync and upgrades.

`render_manifests` returns every manifest keyed by its file name; the pod pieces they share
(non-root, read-only root filesystem, secrets by reference) live in `pods.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from sophia_cli import __version__
from sophia_cli.core.deploy.pods import (
    API_PORT,
    METRICS_PORT,
    DeployOptions,
    Manifest,
    container,
    labels,
    meta,
    pod_spec,
    probe,
    selector,
)
from sophia_cli.core.errors import UsageError

__all__ = ["DeployOptions", "Manifest", "render_manifests", "to_stream", "to_yaml"]


def deployment(options: DeployOptions) -> Manifest:
    """The API: probes on /ready and /health, metrics on their own port."""
    args = [
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        str(API_PORT),
        "--workers",
        str(options.workers),
    ]
    ports = [
        {"name": "http", "containerPort": API_PORT},
        {"name": "metrics", "containerPort": METRICS_PORT},
    ]
    if options.legacy_port is not None:
        args += ["--legacy-port", str(options.legacy_port)]
        ports.append({"name": "legacy", "containerPort": options.legacy_port})
    api = container(options, "api", args) | {
        "ports": ports,
        "readinessProbe": probe("/ready", 10, 3),
        "livenessProbe": probe("/health", 10, 3),
        "startupProbe": probe("/health", 2, 30),
    }
    pod = pod_spec([api])
    pod["terminationGracePeriodSeconds"] = 40  # > the server's 25 s drain of in-flight work
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(options, f"{options.name}-api", "api"),
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": selector(options, "api")},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {
                    "labels": labels(options, "api"),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(METRICS_PORT),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": pod,
            },
        },
    }


def service(options: DeployOptions) -> Manifest:
    """A ClusterIP service for the API (metrics port for in-cluster scraping only)."""
    ports = [
        {"name": "http", "port": API_PORT, "targetPort": "http"},
        {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"},
    ]
    if options.legacy_port is not None:
        ports.append({"name": "legacy", "port": options.legacy_port, "targetPort": "legacy"})
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(options, f"{options.name}-api", "api"),
        "spec": {"type": "ClusterIP", "selector": selector(options, "api"), "ports": ports},
    }


def ingress(options: DeployOptions) -> Manifest:
    """Routes each host to the API port; never the metrics port."""
    backend = {"service": {"name": f"{options.name}-api", "port": {"name": "http"}}}
    spec: dict[str, Any] = {
        "rules": [
            {
                "host": host,
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
            }
            for host in options.hosts
        ]
    }
    if options.tls_secret_name:
        spec["tls"] = [{"hosts": list(options.hosts), "secretName": options.tls_secret_name}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta(options, f"{options.name}-api", "api"),
        "spec": spec,
    }


def autoscaler(options: DeployOptions) -> Manifest:
    """Scale the API on CPU between --replicas and a ceiling."""
    ceiling = options.max_replicas or max(options.replicas * 3, options.replicas + 1)
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta(options, f"{options.name}-api", "api"),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": f"{options.name}-api",
            },
            "minReplicas": options.replicas,
            "maxReplicas": ceiling,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def _job_spec(options: DeployOptions, name: str, args: list[str], *, retries: int) -> Any:
    return {
        "backoffLimit": retries,
        "ttlSecondsAfterFinished": 86400,
        "template": {
            "metadata": {"labels": labels(options, name)},
            "spec": pod_spec([container(options, name, args)], restart="Never"),
        },
    }


@dataclass(frozen=True)
class SourceJob:
    """How often a source syncs and how long one run may take."""

    schedule: str
    deadline_s: int


# One CronJob per source, so a multi-day Slack backfill (1 request a minute for apps outside
# the Marketplace) never keeps HubSpot, Asana or Gong from syncing. Each run stops itself at
# a page boundary (--max-duration) before Kubernetes' deadline would kill it.
SOURCE_JOBS = {
    "slack": SourceJob("*/30 * * * *", 1740),
    "asana": SourceJob("*/15 * * * *", 840),
    "hubspot": SourceJob("*/15 * * * *", 840),
    "gong": SourceJob("0 * * * *", 3300),
}
DEFAULT_JOB = SourceJob("*/15 * * * *", 840)
TIME_BOX_SHARE = 0.85  # of the deadline: the rest is for the last page and the exit


def sync_sources() -> list[str]:
    """The registered sources, in their documented order."""
    from sophia_cli.core.sync.connectors import registry

    return [connector.name for connector in registry.all()]


def sync_cronjob(options: DeployOptions, source: str) -> Manifest:
    """`sophia sync SOURCE` on its own schedule; Forbid: runs of a source never overlap."""
    job = SOURCE_JOBS.get(source, DEFAULT_JOB)
    schedule = options.sync_schedules.get(source) or options.sync_schedule or job.schedule
    box_s = int(job.deadline_s * TIME_BOX_SHARE)
    args = ["sync", "run", source, "--max-duration", f"{box_s}s", "--json"]
    spec = _job_spec(options, "sync", args, retries=1)
    spec["activeDeadlineSeconds"] = job.deadline_s
    spec["template"]["metadata"]["labels"]["sophia.dev/source"] = source
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta(options, f"{options.name}-sync-{source}", "sync"),
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {"spec": spec},
        },
    }


def upgrade_job(options: DeployOptions) -> Manifest:
    """`sophia db upgrade` once per release, before the new API pods take traffic."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta(
            options, f"{options.name}-db-upgrade-{__version__.replace('.', '-')}", "db-upgrade"
        ),
        "spec": _job_spec(options, "db-upgrade", ["db", "upgrade"], retries=2),
    }


def render_manifests(options: DeployOptions) -> dict[str, Manifest]:
    """Every manifest, keyed by the file name it is written to."""
    sources = sync_sources()
    unknown = sorted(set(options.sync_schedules) - set(sources))
    if unknown:
        raise UsageError(
            f"--schedule names an unknown source: {', '.join(unknown)}",
            hint=f"Sources are: {', '.join(sources)}.",
        )
    return {
        "deployment.yaml": deployment(options),
        "service.yaml": service(options),
        "ingress.yaml": ingress(options),
        "hpa.yaml": autoscaler(options),
        **{f"cronjob-sync-{source}.yaml": sync_cronjob(options, source) for source in sources},
        "job-db-upgrade.yaml": upgrade_job(options),
    }


def to_yaml(manifest: Manifest) -> str:
    return str(yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False))


def to_stream(manifests: dict[str, Manifest]) -> str:
    """All manifests as one multi-document YAML stream (for `kubectl apply -f -`)."""
    return "---\n".join(to_yaml(manifest) for manifest in manifests.values())
