"""A runtime object whose attribute happens to be called `manager`: not a module path."""

from types import SimpleNamespace

config = SimpleNamespace(manager=SimpleNamespace(start=lambda: "runtime"))


def boot() -> str:
    return config.manager.start()
