"""One error hierarchy for every face of sophia.

Each error knows its process exit code, its HTTP status, a stable machine code, a one-line
message and a hint that says what to do next. The CLI and the HTTP server render errors from
these fields only, so both faces always agree.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar


class ExitCode(IntEnum):
    """Process exit codes used across commands."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    NOT_UNDERSTOOD = 3
    BUDGET_EXCEEDED = 4
    CHANGES_PENDING = 10
    INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class SophiaError(Exception):
    """Base of every error sophia raises on purpose."""

    code: ClassVar[str] = "error"
    exit_code: ClassVar[int] = ExitCode.FAILURE
    http_status: ClassVar[int] = 500
    default_hint: ClassVar[str] = "Run again with --debug for details."

    def __init__(self, message: str, *, hint: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body shared by `--json` output and HTTP responses."""
        return {"error": {"code": self.code, "message": self.message, "hint": self.hint}}


class UsageError(SophiaError):
    """The command was called with arguments that cannot work."""

    code = "usage"
    exit_code = ExitCode.USAGE
    http_status = 400
    default_hint = "See --help for the accepted arguments."


class ConfigError(SophiaError):
    """The configuration is missing, malformed or inconsistent."""

    code = "config"
    exit_code = ExitCode.USAGE
    http_status = 503  # the server cannot serve this until it is configured
    default_hint = "Run `sophia env check` to see every configuration problem at once."


class InputError(SophiaError):
    """A file or value supplied by the user is malformed."""

    code = "invalid_input"
    exit_code = ExitCode.USAGE
    http_status = 422
    default_hint = "Fix the input named above and run again."


class NotFoundError(SophiaError):
    """A named thing does not exist."""

    code = "not_found"
    http_status = 404
    default_hint = "Check the name and try again."


class ServiceUnavailableError(SophiaError):
    """A store or an outside service cannot be reached."""

    code = "service_unavailable"
    http_status = 503
    default_hint = "Run `sophia doctor` to see which service is down."


class MigrationError(SophiaError):
    """The warehouse schema cannot be brought up to date safely."""

    code = "migration"
    http_status = 500
    default_hint = "Run `sophia db status` to see applied and pending migrations."


class ConflictError(SophiaError):
    """The operation would clash with work already in progress or with newer state."""

    code = "conflict"
    http_status = 409
    default_hint = "Wait for the other operation to finish, then try again."


class AuthenticationError(SophiaError):
    """Credentials are missing, expired or invalid."""

    code = "unauthenticated"
    http_status = 401
    default_hint = "Send a valid bearer token (see `sophia token issue`)."


class PermissionDeniedError(SophiaError):
    """The credentials are valid but do not allow this operation."""

    code = "forbidden"
    http_status = 403
    default_hint = "Use a token or key that carries the required scope."


class RateLimitedError(SophiaError):
    """Too many requests in the current window."""

    code = "rate_limited"
    http_status = 429
    default_hint = "Wait for the time given in Retry-After, then retry."

    def __init__(self, message: str, *, retry_after_s: float, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s


class BudgetExceededError(SophiaError):
    """An LLM call would push today's spend over the budget."""

    code = "budget_exceeded"
    exit_code = ExitCode.BUDGET_EXCEEDED
    http_status = 402
    default_hint = "Raise SQUAD_DAILY_BUDGET_USD, lower --max-tokens, or wait for the UTC reset."


class NotUnderstoodError(SophiaError):
    """A question cannot be expressed with the semantic layer."""

    code = "not_understood"
    exit_code = ExitCode.NOT_UNDERSTOOD
    http_status = 422
    default_hint = "Try one of the suggested questions."

    def __init__(
        self, message: str, *, suggestions: list[str] | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.suggestions = suggestions or []

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["suggestions"] = self.suggestions
        return body


class UpstreamError(SophiaError):
    """An outside API answered with an error we cannot work around."""

    code = "upstream"
    http_status = 502
    default_hint = "Check the service's status and the credentials named above."
