"""Scriptable faults and the request log: what tests use to break the fakes and watch clients."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

APIS = ("slack", "asana", "hubspot", "gong")
FAULT_KINDS = (
    "429",
    "500",
    "502",
    "503",
    "malformed_json",
    "unexpected_shape",
    "slow",
    "expired_offset",
    "401",
)


@dataclass
class Fault:
    """The next `count` requests to `api` (and `path`, when given) get this fault."""

    api: str
    kind: str
    count: int = 1
    path: str | None = None
    retry_after: int = 1
    delay_s: float = 0.0

    def matches(self, api: str, path: str) -> bool:
        """Whether a request to `api` at `path` gets this fault."""
        return self.api == api and (self.path is None or self.path.rstrip("/") == path.rstrip("/"))


def validate_fault(raw: dict[str, Any]) -> Fault:
    """Build a Fault from a JSON body, or raise ValueError naming the bad field."""
    api, kind = raw.get("api"), str(raw.get("kind", ""))
    if api not in APIS:
        raise ValueError(f"api must be one of {', '.join(APIS)}")
    if kind not in FAULT_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    count = int(raw.get("count", 1))
    if count < 1:
        raise ValueError("count must be at least 1")
    path = raw.get("path")
    if path is not None and not str(path).startswith("/"):
        path = "/" + str(path)
    return Fault(
        api=str(api),
        kind=kind,
        count=count,
        path=path,
        retry_after=max(0, int(raw.get("retry_after", 1))),
        delay_s=max(0.0, float(raw.get("delay_s", 0.0))),
    )


class FaultQueue:
    """Faults waiting for matching requests, consumed first in, first out."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def take(self, api: str, path: str) -> Fault | None:
        """The first pending fault for this request, spending one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(api, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return Fault(**{**asdict(fault), "count": 1})
        return None

    def pending(self) -> list[dict[str, Any]]:
        """Faults still waiting, as dicts."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._faults.clear()


class RequestLog:
    """Every request the fakes answered, with its time, so tests can count per window.

    Only the latest `keep` entries are kept, so a long-running `sandbox serve` stays small.
    """

    def __init__(self, keep: int = 200_000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> None:
        """Append one entry."""
        with self._lock:
            self._entries.append(entry)

    def query(self, api: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
        """Entries for `api` (all when None) at or after `since`."""
        with self._lock:
            return [
                dict(e)
                for e in self._entries
                if (api is None or e["api"] == api) and (since is None or e["t"] >= since)
            ]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._entries.clear()
