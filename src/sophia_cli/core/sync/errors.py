"""Sync failures, split the way retry logic needs them: transient (retry) or terminal."""

from __future__ import annotations

from sophia_cli.core.errors import (
    AuthenticationError,
    ConfigError,
    PermissionDeniedError,
    UpstreamError,
)

EXCERPT_CHARS = 200


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a response body on one line, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class TransientApiError(UpstreamError):
    """Worth retrying: 429, 5xx, timeouts, dropped connections."""

    code = "upstream_transient"

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TerminalApiError(UpstreamError):
    """Retrying cannot help: the request or the data is wrong (the stream fails)."""

    code = "upstream_failed"


class MalformedResponseError(TerminalApiError):
    """The API answered something that is not the JSON shape it documents."""

    code = "upstream_malformed"
    default_hint = "The API answered an unexpected body; the stream's bookmark was kept."


class SourceAuthError(AuthenticationError):
    """The source rejected our credentials: every stream of the source stops."""

    code = "source_unauthenticated"


class SourceScopeError(PermissionDeniedError):
    """The credentials are valid but lack a scope or access (the source stops)."""

    code = "source_forbidden"


class TokenMissingError(ConfigError):
    """The source's token is not configured."""

    code = "source_not_configured"
