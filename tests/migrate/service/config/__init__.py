"""Configuration package: the legacy manager and its defaults."""

from . import defaults, manager

__all__ = ["defaults", "manager"]
