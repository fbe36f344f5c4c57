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
    schedule: Annotated[str, typer.Option(help="Cron schedule of `sophia sync run`.")] = (
        "*/15 * * * *"
    ),
    legacy_port: Annotated[
        int | None, typer.Option(help="Also expose the legacy (Bridge) port, e.g. 8003.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write one file per manifest here (else stdout).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Write Deployment, Service, Ingress, HPA, sync CronJob and db-upgrade Job manifests.

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
        "sync_schedule": schedule,
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
    manifests = render_manifests(options)
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
