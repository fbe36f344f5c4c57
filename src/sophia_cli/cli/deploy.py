"""`sophia deploy`: Kubernetes manifests for the API, the sync CronJob and the upgrade Job."""

from __future__ import annotations

import typer

app = typer.Typer(help="Render Kubernetes manifests for sophia.", no_args_is_help=True)
