"""What every route of one app shares, in a module of its own.

Routes and the auth dependency need the type, and `app` imports every route: keeping the
state here lets them import it without going through the app (no import circle).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from sophia_cli.core.doctor.models import DoctorReport
from sophia_cli.core.settings import Settings
from sophia_cli.server.limits import SubjectConcurrency
from sophia_cli.server.metrics import Metrics
from sophia_cli.server.ports import PortPlan
from sophia_cli.server.ratelimit import RateLimiter


@dataclass
class ServerState:
    """What every route of one app shares."""

    settings: Settings
    metrics: Metrics
    limiter: RateLimiter
    ports: PortPlan
    concurrency: SubjectConcurrency
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # The last readiness report and when it was taken (monotonic seconds): probes arrive
    # every few seconds from every kubelet, and the checks touch every store.
    readiness: tuple[float, DoctorReport] | None = None
    probe_threads: Any = None  # anyio CapacityLimiter of /ready, made in the serving loop

    def spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run a background job that shutdown waits for (it should watch `stopping`)."""
        task = asyncio.create_task(coroutine, name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task
