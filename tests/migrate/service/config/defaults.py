"""Default settings."""

DEFAULTS = {"port": 8003, "debug": False}
