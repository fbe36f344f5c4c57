"""Every HTTP failure in the one shape `{"error": {"code", "message", "hint"}}`.

Errors raised by core carry their status; FastAPI's own 404/405/422 and anything unexpected
are translated into the same hierarchy here, so clients parse one body everywhere.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sophia_cli.core.errors import InputError, NotFoundError, SophiaError, UsageError

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
    """Any failure as the error both faces show (`core.failures.explain`).

    What nothing classifies is a plain 500 whose details stay in the server log.
    """
    from sophia_cli.core.failures import explain

    found = explain(exc)
    if found is not None:
        return found
    return SophiaError("internal server error", hint="The server logged the details; retry later.")


def install_error_handlers(app: FastAPI) -> None:
    """Register handlers that turn every failure into the shared error body."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    async def on_sophia_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SophiaError)
        return error_response(translate_unexpected(exc))

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
