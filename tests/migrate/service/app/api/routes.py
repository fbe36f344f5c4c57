"""Routes of the unified API."""

from app.api import (
    health,
    health_legacy,
)

ROUTES = {"/health": health.check, "/health/legacy": health_legacy.check}
