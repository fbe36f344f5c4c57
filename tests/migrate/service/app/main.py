"""The API's entry point."""

import config.manager

from app.api.routes import ROUTES


def run() -> dict[str, object]:
    return config.manager.start() | {"routes": sorted(ROUTES)}


app = run
