"""The pod pieces every sophia workload shares: options, labels, env, containers, probes.

Every pod runs as a non-root user on a read-only root filesystem and gets its secrets by
reference (`secretKeyRef` into one Secret the operator creates), never inlined. The list of
variables comes from the settings model, so a new secret setting is deployed automatically.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from sophia_cli import __version__
from sophia_cli.core.deploy.image import default_image
from sophia_cli.core.setting_specs import setting_specs

Manifest = dict[str, Any]
API_PORT = 8000
METRICS_PORT = 9100
RUN_AS_USER = 10001


class DeployOptions(BaseModel):
    """What `sophia deploy render` can change."""

    name: str = Field(default="sophia", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=40)
    namespace: str = Field(default="sophia", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    image: str = Field(default_factory=default_image, min_length=1)
    replicas: int = Field(default=3, ge=1, le=100)
    max_replicas: int | None = Field(default=None, ge=1, le=500)
    workers: int = Field(default=2, ge=1, le=32)
    hosts: list[str] = Field(default_factory=lambda: ["api.example.com"], min_length=1)
    secret_name: str = Field(default="sophia-secrets", pattern=r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
    tls_secret_name: str | None = "sophia-tls"
    # Cron schedules of the per-source sync CronJobs: `sync_schedule` for every source,
    # `sync_schedules` per source (wins); unset ones keep each source's default.
    sync_schedule: str | None = None
    sync_schedules: dict[str, str] = Field(default_factory=dict)
    legacy_port: int | None = Field(default=None, ge=1, le=65535)

    @model_validator(mode="after")
    def _ceiling_above_floor(self) -> DeployOptions:
        if self.max_replicas is not None and self.max_replicas < self.replicas:
            raise ValueError("--max-replicas must be at least --replicas")
        return self


def labels(options: DeployOptions, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": options.name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/version": __version__,
    }


def meta(options: DeployOptions, name: str, component: str) -> dict[str, Any]:
    return {"name": name, "namespace": options.namespace, "labels": labels(options, component)}


def secret_env(options: DeployOptions) -> list[dict[str, Any]]:
    """One env entry per secret setting, each a reference into the Secret."""
    return [
        {
            "name": spec.env_name,
            "valueFrom": {
                "secretKeyRef": {
                    "name": options.secret_name,
                    "key": spec.env_name,
                    # Production-required secrets must exist; the rest are optional.
                    "optional": not spec.required_in_production,
                }
            },
        }
        for spec in setting_specs()
        if spec.secret
    ]


def env(options: DeployOptions) -> list[dict[str, Any]]:
    plain = [
        {"name": "SOPHIA_ENV", "value": "production"},
        {"name": "SOPHIA_HOME", "value": "/var/lib/sophia"},
        {"name": "SOPHIA_METRICS_PORT", "value": str(METRICS_PORT)},
    ]
    return plain + secret_env(options)


def container(options: DeployOptions, name: str, args: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "image": options.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sophia"],
        "args": args,
        "env": env(options),
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        # The root filesystem is read-only: state and temp files go to emptyDir volumes.
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "home", "mountPath": "/var/lib/sophia"},
        ],
    }


def pod_spec(containers: list[dict[str, Any]], *, restart: str = "Always") -> dict[str, Any]:
    return {
        "automountServiceAccountToken": False,
        "restartPolicy": restart,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": containers,
        "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "home", "emptyDir": {}}],
    }


def probe(path: str, period_s: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period_s,
        "timeoutSeconds": 5 if path == "/health" else 20,
        "failureThreshold": failures,
    }


def selector(options: DeployOptions, component: str) -> dict[str, str]:
    every = labels(options, component)
    return {k: every[k] for k in ("app.kubernetes.io/name", "app.kubernetes.io/component")}
