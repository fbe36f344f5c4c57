"""Every HTTP failure in the one shape `{"error": {"code", "message", "hint"}}`.

Errors raised by core carry their status; FastAPI's own 404/405/422 and anything unexpected
are translated into the same hierarchy here, so clients parse one body everywhere.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sophia_cli.core.errors import (
    InputError,
    MigrationError,
    NotFoundError,
    ServiceUnavailableError,
    SophiaError,
    UsageError,
)

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

log = logging.getLogger("sophia.server")


class MethodNotAllowedError(UsageError):
    """The path exists but not with this HTTP method."""

    code = "method_not_allowed"
    http_status = 405
    default_hint = "See /docs for the methods each route accepts."


def error_response(exc: SophiaError) -> JSONResponse:
    """The JSON response for one error, with Retry-After for rate limits."""
    from fastapi.responses import JSONResponse

    headers: dict[str, str] = {}
    # Rate limits, and errors such as "every deployment is cooling down", say when to retry.
    retry_after_s = getattr(exc, "retry_after_s", None)
    if isinstance(retry_after_s, int | float):
        headers["Retry-After"] = str(max(1, int(-(-retry_after_s // 1))))
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="sophia"'
    return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)


def _validation_message(errors: list[dict[str, object]]) -> str:
    if not errors:
        return "the request is malformed"
    first = errors[0]
    loc = first.get("loc")
    where = ".".join(str(part) for part in loc) if isinstance(loc, list | tuple) else "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def translate_unexpected(exc: BaseException) -> SophiaError:
    """An error core did not classify, as the closest error of the hierarchy.

    A store that cannot be reached is a 503 (the load balancer may retry elsewhere); a
    warehouse without its schema is a migration problem; anything else is a plain 500 whose
    details stay in the server log.
    """
    import psycopg
    import pydantic
    import redis

    if isinstance(exc, pydantic.ValidationError):
        # A core model refused a value the request led to (e.g. "top 10^18 owners").
        details = exc.errors()
        where = ".".join(str(part) for part in details[0]["loc"]) if details else "a value"
        message = details[0]["msg"] if details else "invalid"
        return InputError(f"{where}: {message}", hint="Ask for a smaller or simpler value.")
    if isinstance(exc, OverflowError) or (
        isinstance(exc, ValueError) and "out of range" in str(exc)
    ):
        return InputError(
            f"a date or number is out of range: {str(exc)[:120]}",
            hint="Use dates between years 1 and 9999 and reasonable sizes.",
        )
    if isinstance(exc, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName):
        return MigrationError(
            "the warehouse schema is missing or out of date",
            hint="Run `sophia db upgrade` against DATABASE_URL.",
        )
    if isinstance(exc, psycopg.OperationalError | redis.ConnectionError | redis.TimeoutError):
        return ServiceUnavailableError(f"a store is unreachable ({type(exc).__name__})")
    return SophiaError("internal server error", hint="The server logged the details; retry later.")


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers that turn every failure into the shared error body."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    async def on_sophia_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SophiaError)
        return error_response(exc)

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        error: SophiaError
        if exc.status_code == 404:
            error = NotFoundError(f"no route {request.url.path}", hint="See /docs for the routes.")
        elif exc.status_code == 405:
            error = MethodNotAllowedError(f"{request.method} is not allowed on {request.url.path}")
        else:
            error = SophiaError(str(exc.detail))
            error.http_status = exc.status_code  # type: ignore[misc]
        return error_response(error)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [dict(item) for item in exc.errors()]
        return error_response(
            InputError(_validation_message(errors), hint="See /docs for the request schema.")
        )

    app.add_exception_handler(SophiaError, on_sophia_error)
    app.add_exception_handler(HTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
