"""`sophia deploy`: Kubernetes manifests for the API, the sync CronJob and the upgrade Job."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import JsonOption
from sophia_cli.cli.state import wants_json
from sophia_cli.core.errors import UsageError

app = typer.Typer(help="Render Kubernetes manifests for sophia.", no_args_is_help=True)


@app.command("render")
def render(
    ctx: typer.Context,
    replicas: Annotated[int, typer.Option(help="API replicas (the autoscaler's floor).")] = 3,
    max_replicas: Annotated[
        int | None, typer.Option(help="Autoscaler ceiling (default 3 x replicas).")
    ] = None,
    image: Annotated[str | None, typer.Option(help="Container image with sophia.")] = None,
    host: Annotated[
        list[str] | None, typer.Option("--host", help="Ingress host (repeatable).")
    ] = None,
    namespace: Annotated[str, typer.Option(help="Kubernetes namespace.")] = "sophia",
    secret_name: Annotated[
        str, typer.Option(help="Secret holding the secret settings, by variable name.")
    ] = "sophia-secrets",
    schedule: Annotated[
        list[str] | None,
        typer.Option(
            "--schedule",
            help="Cron schedule of the sync CronJobs: CRON for all, or SOURCE=CRON "
            "(repeatable). Default: slack every 30 min, asana/hubspot 15 min, gong hourly.",
        ),
    ] = None,
    legacy_port: Annotated[
        int | None, typer.Option(help="Also expose the legacy (Bridge) port, e.g. 8003.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write one file per manifest here (else stdout).")
    ] = None,
    monitoring: Annotated[
        bool,
        typer.Option(
            "--monitoring",
            help="Also a Grafana dashboard ConfigMap and a PrometheusRule with sophia's alerts.",
        ),
    ] = False,
    secrets: Annotated[
        str,
        typer.Option(
            "--secrets",
            help="kubernetes (create the Secret yourself) or external: an ExternalSecret "
            "fills it from AWS Secrets Manager (External Secrets Operator).",
        ),
    ] = "kubernetes",
    secret_store: Annotated[
        str, typer.Option(help="ClusterSecretStore of the External Secrets Operator.")
    ] = "aws-secrets-manager",
    json_output: JsonOption = False,
) -> None:
    """Write Deployment, Service, Ingress, HPA, one sync CronJob per source, db-upgrade Job.

    Secrets are referenced from --secret-name, never inlined: create it with
    `kubectl create secret generic sophia-secrets --from-env-file=.env.production`.

    Example: sophia deploy render --replicas 3 --host api.example.com --out deploy/
    """
    from sophia_cli.core.deploy.manifests import DeployOptions, render_manifests, to_stream, to_yaml

    values: dict[str, Any] = {
        "replicas": replicas,
        "max_replicas": max_replicas,
        "namespace": namespace,
        "secret_name": secret_name,
        "sync_schedule": next((s for s in schedule or [] if "=" not in s), None),
        "sync_schedules": dict(s.split("=", 1) for s in schedule or [] if "=" in s),
        "legacy_port": legacy_port,
    }
    if image:
        values["image"] = image
    if host:
        values["hosts"] = host
    from pydantic import ValidationError

    try:
        options = DeployOptions.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "--" + str(first["loc"][0]).replace("_", "-") + ": " if first["loc"] else ""
        raise UsageError(f"{where}{first['msg'].removeprefix('Value error, ')}") from exc
    if secrets not in ("kubernetes", "external"):
        raise UsageError(f"--secrets: {secrets!r} is not kubernetes or external")
    manifests = render_manifests(options)
    if secrets == "external":
        from sophia_cli.core.deploy.external_secrets import external_secret

        manifests["externalsecret.yaml"] = external_secret(options, secret_store)
    if monitoring:
        from sophia_cli.cli.state import settings
        from sophia_cli.core.deploy.monitoring import monitoring_manifests

        manifests |= monitoring_manifests(options, settings(ctx).sync_stale_hours)
    as_json = wants_json(ctx, json_output)
    if out is None:
        if as_json:
            output.emit_json({"manifests": manifests})
        else:
            sys.stdout.write(to_stream(manifests))
        return
    out.mkdir(parents=True, exist_ok=True)
    for name, manifest in manifests.items():
        (out / name).write_text(to_yaml(manifest), encoding="utf-8")
    if as_json:
        output.emit_json({"written": [str(out / name) for name in manifests]})
    else:
        output.say(f"wrote {len(manifests)} manifests to {out}")
