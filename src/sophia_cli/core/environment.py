"""The deployment environment, kept apart from the settings model so commands can name it
in their options without importing pydantic-settings at `sophia --help`."""

from __future__ import annotations

from enum import StrEnum


class Environment(StrEnum):
    """Deployment environment selected by SOPHIA_ENV."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"
