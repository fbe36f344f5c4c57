"""The FastAPI app of `sophia serve`: one router per area, each a thin face over `core/`.

`create_app(settings)` builds a fresh app (tests build many); `app_from_environment()` is
the factory uvicorn workers call, reading settings and the port plan from the environment
that `sophia serve` prepared.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from sophia_cli import __version__
from sophia_cli.core.auth.tokens import secret_problem
from sophia_cli.core.errors import ConfigError
from sophia_cli.core.settings import Settings
from sophia_cli.server import ENV_FILE_VARIABLE, LEGACY_PORT_VARIABLE, served_directory
from sophia_cli.server.errors import install_error_handlers
from sophia_cli.server.limits import BodyLimitMiddleware, SubjectConcurrency
from sophia_cli.server.metrics import Metrics, ObserveMiddleware
from sophia_cli.server.ports import PortPlan, PortsMiddleware
from sophia_cli.server.ratelimit import RateLimiter
from sophia_cli.server.state import ServerState

log = logging.getLogger("sophia.server")
GZIP_MINIMUM_BYTES = 1000
SHUTDOWN_GRACE_S = 25.0
# How long background jobs get to finish after in-flight requests drained; then they are
# cancelled and record that they were interrupted (Kubernetes kills at 30 s by default).
BACKGROUND_GRACE_S = 3.0


def check_startup(settings: Settings) -> None:
    """Refuse to serve production without a strong JWT secret."""
    problem = secret_problem(settings)
    if settings.is_production and problem is not None:
        raise ConfigError(
            f"refusing to serve in production: {problem}",
            hint="Set JWT_SECRET to 64+ random characters (e.g. `openssl rand -hex 32`).",
        )
    if problem is not None:
        log.warning("%s: every authenticated route will answer 401", problem)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from sophia_cli.core.squad.alerts import sender

    started: ServerState = app.state.sophia
    started.spawn(sender(started.settings, started.stopping), "squad-alerts")
    yield
    # Graceful shutdown: uvicorn has stopped accepting and drained in-flight requests;
    # background jobs are told to stop at a safe point and given a grace period.
    state: ServerState = app.state.sophia
    state.stopping.set()
    if state.background:
        log.info("waiting for %d background job(s) to stop", len(state.background))
        _, pending = await asyncio.wait(list(state.background), timeout=BACKGROUND_GRACE_S)
        for task in pending:
            task.cancel()  # each job records itself as interrupted
        if pending:
            await asyncio.wait(pending, timeout=BACKGROUND_GRACE_S)
    await state.limiter.close()


def create_app(settings: Settings, ports: PortPlan | None = None) -> FastAPI:
    """A new app serving `settings`, answering on the ports in `ports`."""
    check_startup(settings)
    if settings.sentry_dsn is not None:
        from sophia_cli.core import errortracking

        errortracking.init(settings, "server")
    plan = ports or PortPlan(api=settings.sophia_port, metrics=settings.sophia_metrics_port)
    app = FastAPI(
        title="sophia",
        version=__version__,
        description="The sophia core over HTTP: bearer tokens with scopes, shared rate limits.",
        lifespan=_lifespan,
    )
    metrics = Metrics()
    app.state.sophia = ServerState(
        settings=settings,
        metrics=metrics,
        limiter=RateLimiter(settings, metrics),
        ports=plan,
        concurrency=SubjectConcurrency(settings.sophia_token_concurrency),
    )
    install_error_handlers(app)
    _include_routers(app)
    # Added innermost first: ObserveMiddleware sees every response, gzip sits closest.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(BodyLimitMiddleware, limit=settings.sophia_max_body_bytes)
    app.add_middleware(PortsMiddleware, plan=plan)
    app.add_middleware(ObserveMiddleware, metrics=metrics, legacy_port=plan.legacy)
    return app


def _include_routers(app: FastAPI) -> None:
    from sophia_cli.server.routes import ROUTERS

    for router in ROUTERS():
        app.include_router(router)


def _log_to_stderr() -> None:
    """Access and server logs as plain lines on stderr (JSON for access), once per process.

    Requests only put records on a queue; a thread writes them, so no request waits on a
    write to stderr (a pipe to a log collector can block). Flushed at exit.
    """
    import atexit
    import queue
    from logging.handlers import QueueHandler, QueueListener

    logger = logging.getLogger("sophia")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        listener = QueueListener(records, handler)
        listener.start()
        atexit.register(listener.stop)
        logger.addHandler(QueueHandler(records))
        logger.setLevel(logging.INFO)
        logger.propagate = False


_LLM_KEYS = ("openai_api_key", "anthropic_api_key", "litellm_api_key", "aimlapi_api_key")


def _preload_llm_library(settings: Settings) -> None:
    """Import LiteLLM before serving when a model can be called.

    The first chat or LLM-backed ask then does not pay its multi-second import, and a
    shutdown cannot land in the middle of it: LiteLLM installs logging filters during its
    import that fail (KeyError 'litellm') if uvicorn logs from another thread meanwhile.
    """
    if any(settings.secret_value(name) for name in _LLM_KEYS):
        from sophia_cli.core.squad.llm import load_litellm

        load_litellm()


def settings_for_worker() -> Settings:
    """Settings loaded exactly as the CLI loads them: the layered files of the directory
    `sophia serve` ran in (or its --env-file), the process environment, then the keyring."""
    from sophia_cli.core.env.layers import layer_summary, load_layered, raise_unresolved

    env_file = os.environ.get(ENV_FILE_VARIABLE)
    directory = served_directory()
    settings, layers = load_layered(directory, extra_file=Path(env_file) if env_file else None)
    log.info("worker %d: %s", os.getpid(), layer_summary(layers))
    raise_unresolved(layers)  # a worker never serves with a secret it could not read
    return settings


def app_from_environment() -> FastAPI:
    """The factory uvicorn workers call (`sophia serve` prepared the environment)."""
    _log_to_stderr()
    settings = settings_for_worker()
    legacy = os.environ.get(LEGACY_PORT_VARIABLE)
    plan = PortPlan(
        api=settings.sophia_port,
        legacy=int(legacy) if legacy else None,
        metrics=settings.sophia_metrics_port,
    )
    app = create_app(settings, plan)
    _preload_llm_library(settings)
    return app
