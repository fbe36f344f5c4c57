"""`sophia serve`: the same core over HTTP, on the API port and optionally the legacy one."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from sophia_cli.cli import output
from sophia_cli.cli.state import settings, state
from sophia_cli.core.errors import ServiceUnavailableError, UsageError
from sophia_cli.server import DIRECTORY_VARIABLE, ENV_FILE_VARIABLE, LEGACY_PORT_VARIABLE

if TYPE_CHECKING:
    import socket

    from sophia_cli.core.settings import Settings

APP_FACTORY = "sophia_cli.server.app:app_from_environment"


def _bind(host: str, port: int) -> socket.socket:
    """A bound, inheritable socket that every worker accepts on.

    Created as IPPROTO_TCP with TCP_NODELAY: accepted connections inherit the option, and
    asyncio only sets it itself on sockets whose protocol says TCP. Without it every
    keep-alive response waits ~40 ms for the client's delayed ACK (Nagle).
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServiceUnavailableError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="Stop what holds the port (`sophia doctor -c ports`) or choose another --port.",
        ) from exc
    sock.set_inheritable(True)
    return sock


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind; 0.0.0.0 in containers.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int | None, typer.Option(help="API port (default SOPHIA_PORT, 8000).", min=1, max=65535)
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes sharing the ports.", min=1)] = 1,
    legacy_port: Annotated[
        int | None,
        typer.Option(
            help="Also answer on this legacy (Bridge) port, marked deprecated, e.g. 8003.",
            min=1,
            max=65535,
        ),
    ] = None,
    link: Annotated[
        bool | None,
        typer.Option(
            "--link/--no-link",
            help="Print a sign-in link to the BI page with an admin token at start "
            "(default: yes, except in production).",
        ),
    ] = None,
    link_ttl: Annotated[
        str | None, typer.Option("--link-ttl", help="Lifetime of the link's token (default 12h).")
    ] = None,
) -> None:
    """Serve the same functions over HTTP on port 8000; SIGTERM drains in-flight requests.

    Routes need a bearer token (`sophia token issue`); /health, /ready and /metrics are open
    (/metrics is admin-scoped in production unless SOPHIA_METRICS_PORT is set).

    At start it prints `Open http://127.0.0.1:8000/#token=…`: the BI page, signed in as an
    admin for SOPHIA_LINK_TTL_HOURS (12); the token is in the URL fragment, which browsers
    never send to the server. Production prints it only with --link.

    Example: sophia serve --host 0.0.0.0 --port 8000 --workers 2 --legacy-port 8003
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from sophia_cli.server.app import SHUTDOWN_GRACE_S, check_startup

    config_settings = settings(ctx)
    check_startup(config_settings)
    api_port = port or config_settings.sophia_port
    metrics_port = config_settings.sophia_metrics_port
    chosen = [p for p in (api_port, legacy_port, metrics_port) if p is not None]
    if len(set(chosen)) != len(chosen):
        raise UsageError(f"ports must differ: {', '.join(map(str, chosen))}")
    sign_in = _sign_in_line(config_settings, host, api_port, link, link_ttl)
    sockets = [_bind(host, p) for p in chosen]
    metrics_dir = _export_for_workers(ctx, api_port, legacy_port, workers)
    _start_embedded_milvus(config_settings)
    config = uvicorn.Config(
        APP_FACTORY,
        factory=True,
        workers=workers,
        access_log=False,
        timeout_graceful_shutdown=int(SHUTDOWN_GRACE_S),
        server_header=False,
    )
    where = ", ".join(f"http://{host}:{p}" for p in chosen)
    output.say(f"sophia serve on {where} ({workers} worker{'s' if workers > 1 else ''})")
    output.say(_layers_line(ctx))
    if sign_in is not None:
        sys.stderr.write(sign_in + "\n")  # unwrapped: a link must copy as one line
        sys.stderr.flush()
    try:
        if workers > 1:
            Multiprocess(config, sockets=sockets).run()
        else:
            uvicorn.Server(config).run(sockets=sockets)
    finally:
        if metrics_dir is not None:
            import shutil

            shutil.rmtree(metrics_dir, ignore_errors=True)


def _sign_in_line(
    config: Settings, host: str, port: int, wanted: bool | None, ttl: str | None
) -> str | None:
    """The line with the operator's sign-in link, printed once on stderr; None in
    production unless asked (there stderr goes to a log collector, and a link is a
    credential)."""
    from sophia_cli.core.auth import links
    from sophia_cli.core.auth.tokens import parse_ttl, secret_problem

    if not (wanted if wanted is not None else not config.is_production):
        return None
    if (problem := secret_problem(config)) is not None:
        return f"no sign-in link: {problem}"
    seconds = parse_ttl(ttl, "--link-ttl") if ttl is not None else None
    return f"Open {links.operator_link(config, host, port, seconds)}"


def _start_embedded_milvus(config: Settings) -> None:
    """Without MILVUS_URI, make sure the shared embedded Milvus Lite server runs.

    Every worker (and any CLI process) would start it on first use anyway, under a file
    lock; starting it here makes the first request fast and says where it is. It keeps
    running after serve ends, like the embedded PostgreSQL and Valkey (`sophia db stop`).
    """
    from sophia_cli.store import milvus

    if milvus.is_embedded(config):
        output.say(f"Milvus Lite (shared, embedded) at {milvus.resolve_uri(config)}")


def _layers_line(ctx: typer.Context) -> str:
    """Which configuration layers the workers will read (they load the same ones)."""
    from sophia_cli.core.env.layers import layer_summary, load_layers

    return layer_summary(load_layers(state(ctx).project_dir(), extra_file=state(ctx).env_file))


def _export_for_workers(
    ctx: typer.Context, api_port: int, legacy_port: int | None, workers: int
) -> str | None:
    """Workers are fresh processes: hand them the choices through the environment.

    Returns the metrics folder created for this run (removed when serving ends), if any.
    """
    env_file = state(ctx).env_file
    if env_file is not None:
        os.environ[ENV_FILE_VARIABLE] = str(env_file.resolve())
    os.environ[DIRECTORY_VARIABLE] = str(state(ctx).project_dir())
    os.environ["SOPHIA_PORT"] = str(api_port)
    if legacy_port is not None:
        os.environ[LEGACY_PORT_VARIABLE] = str(legacy_port)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics here; /metrics merges them.
        import tempfile

        folder = tempfile.mkdtemp(prefix="sophia-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        return folder
    return None
