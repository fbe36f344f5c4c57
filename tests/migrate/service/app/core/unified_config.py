"""The one configuration the platform reads."""

from config import manager, defaults  # noqa: I001 (the order people write)


def load() -> dict[str, object]:
    return manager.start() | {"defaults": defaults.DEFAULTS}
