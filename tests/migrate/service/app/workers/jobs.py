"""Background jobs."""

import importlib
from unittest import mock

from config.manager import start as start_manager

from ..core import unified_config


def refresh() -> dict[str, object]:
    return unified_config.load() | start_manager()


def manager_module() -> object:
    return importlib.import_module("config.manager")


def dry_refresh() -> object:
    with mock.patch("config.manager.start", return_value={"dry": True}):
        return unified_config.load()
