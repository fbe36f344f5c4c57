"""Run the squad's coroutines from synchronous code (the CLI, `ask`, tests).

One event loop per process lives in a daemon thread and runs them all, so the async clients
LiteLLM caches per loop keep working from call to call; a fresh loop per call would leave
clients bound to dead loops behind. Interrupting the caller (Ctrl-C) cancels the coroutine,
which closes its books (at the reservation) before the interrupt goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_lock = threading.Lock()
_loops: dict[int, asyncio.AbstractEventLoop] = {}
CANCEL_GRACE_S = 5.0


def _loop() -> asyncio.AbstractEventLoop:
    with _lock:
        loop = _loops.get(os.getpid())
        if loop is None or loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="squad-loop", daemon=True).start()
            _loops[os.getpid()] = loop
        return loop


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end on the process's squad loop and return its result."""
    loop = _loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise RuntimeError("runner.run() called from the squad loop itself: await instead")
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        return future.result()
    except BaseException:
        if not future.done():
            future.cancel()
            try:
                future.result(timeout=CANCEL_GRACE_S)
            except (concurrent.futures.CancelledError, concurrent.futures.TimeoutError):
                pass
            except Exception:  # noqa: BLE001 - the interrupt that got us here wins
                pass
        raise
