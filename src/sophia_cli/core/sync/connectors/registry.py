"""The plain registry of connectors; built-ins register themselves like plugins would.

Tests register a fake connector and remove it with `unregister`.
"""

from __future__ import annotations

import importlib
import threading

from sophia_cli.core.errors import NotFoundError
from sophia_cli.core.sync.sources import NAMES
from sophia_cli.core.sync.streams import Connector

BUILTINS = NAMES  # every declared source has a connector module of its name

_connectors: dict[str, Connector] = {}
_loaded = False
_load_lock = threading.Lock()


def register(connector: Connector) -> Connector:
    """Add a connector (replacing one of the same name)."""
    _connectors[connector.name] = connector
    return connector


def unregister(name: str) -> None:
    _connectors.pop(name, None)


def _load_builtins() -> None:
    global _loaded
    with _load_lock:  # doctor checks call this from several threads at once
        if not _loaded:
            for name in BUILTINS:
                importlib.import_module(f"sophia_cli.core.sync.connectors.{name}")
            _loaded = True


def find(name: str) -> Connector | None:
    _load_builtins()
    return _connectors.get(name)


def get(name: str) -> Connector:
    """The connector called `name`, or NotFoundError listing the known ones."""
    connector = find(name)
    if connector is None:
        known = ", ".join(_connectors)
        raise NotFoundError(f"no sync source named {name!r}", hint=f"Sources are: {known}.")
    return connector


def all() -> list[Connector]:  # noqa: A001 - the registry's documented verb
    """Every registered connector, built-ins first in their documented order."""
    _load_builtins()
    order = {name: i for i, name in enumerate(BUILTINS)}
    return sorted(_connectors.values(), key=lambda c: (order.get(c.name, len(order)), c.name))
