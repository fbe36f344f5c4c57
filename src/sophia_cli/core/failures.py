"""Classify failures nobody raised on purpose, once, for both faces.

The CLI and the HTTP server call `explain` on anything that escapes a command or a route, so
a warehouse without its schema, an unreachable store or a refused file path reads the same
(code, message, hint) on the terminal and in the JSON body. Library exception types are only
looked up when their library is already imported: if it is not loaded, the failure cannot be
one of its errors, and `sophia --help` never pays for psycopg or redis.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from sophia_cli.core.errors import (
    InputError,
    MigrationError,
    ServiceUnavailableError,
    SophiaError,
)


def missing_schema() -> MigrationError:
    """The one error for a warehouse whose migrations have not run (or not all of them)."""
    return MigrationError(
        "the warehouse schema is missing or out of date",
        hint="Run `sophia db upgrade` (or `sophia db init` on a new machine), then retry.",
    )


class StorePermissionError(SophiaError):
    """A store refused an operation to the user sophia connects as."""

    code = "store_permission"
    http_status = 503  # the server cannot do this until an operator grants the right
    default_hint = "Connect as a user that owns the warehouse, or grant it the privilege named."


def _module(name: str) -> Any | None:
    return sys.modules.get(name)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it, outermost first (each link once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _postgres(exc: BaseException) -> SophiaError | None:
    psycopg = _module("psycopg")
    if psycopg is None or not isinstance(exc, psycopg.Error):
        return None
    errors = psycopg.errors
    # Not UndefinedColumn: a misspelt column in a user's SQL is theirs to fix, not a migration.
    if isinstance(exc, errors.UndefinedTable | errors.InvalidSchemaName):
        return missing_schema()
    if isinstance(exc, errors.InsufficientPrivilege):
        first = (str(exc).strip().splitlines() or ["permission denied"])[0]
        return StorePermissionError(f"the warehouse refused: {first}")
    if isinstance(exc, psycopg.OperationalError) and _lost_connection(exc):
        return ServiceUnavailableError(
            "the warehouse (PostgreSQL) is unreachable",
            hint="Start the server or fix DATABASE_URL; `sophia db status` shows every store.",
        )
    return None


def _lost_connection(exc: Any) -> bool:
    """A connection that failed, as opposed to a statement the server refused.

    psycopg files "program limit exceeded", "query cancelled" and the like under
    OperationalError too; those are about the query and carry a SQLSTATE outside class 08.
    """
    state = getattr(exc, "sqlstate", None)
    return state is None or state.startswith("08") or state in _SERVER_GOING_AWAY


# admin_shutdown, crash_shutdown, cannot_connect_now
_SERVER_GOING_AWAY = ("57P01", "57P02", "57P03")


def _redis(exc: BaseException) -> SophiaError | None:
    redis = _module("redis")
    if redis is None:
        return None
    if isinstance(exc, redis.AuthenticationError | redis.exceptions.NoPermissionError):
        return StorePermissionError(
            "Redis refused the credentials or the command",
            hint="Fix the user and password in REDIS_URL.",
        )
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return ServiceUnavailableError(
            "the cache (Redis) is unreachable",
            hint="Start Redis or fix REDIS_URL; `sophia db status` shows every store.",
        )
    return None


def _values(exc: BaseException) -> SophiaError | None:
    pydantic = _module("pydantic")
    if pydantic is not None and isinstance(exc, pydantic.ValidationError):
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
    return None


def _files(exc: BaseException) -> SophiaError | None:
    if not isinstance(exc, OSError) or exc.filename is None:
        return None
    path = exc.filename
    if isinstance(exc, PermissionError):
        return InputError(
            f"permission denied: {path}", hint="Choose a path you may write, or fix its mode."
        )
    if isinstance(exc, FileExistsError):
        return InputError(
            f"{path} already exists and is not a folder", hint="Name a folder for the output."
        )
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path} is a directory", hint="Name a file, not a folder.")
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return InputError(
            f"no such file or folder: {path}", hint="Check the path; create its folder first."
        )
    return None


_INFRASTRUCTURE = (_postgres, _redis)
# Errors that already name what the user must fix about the stores: they win over any
# wrapper raised on top of them.
_ROOT_CAUSES = (ServiceUnavailableError, MigrationError, StorePermissionError)
_OTHER = (_values, _files)


def classify(exc: BaseException) -> SophiaError | None:
    """The error of the hierarchy closest to `exc`, or None when nothing fits."""
    for rule in (*_INFRASTRUCTURE, *_OTHER):
        if (found := rule(exc)) is not None:
            return found
    return None


def explain(exc: BaseException) -> SophiaError | None:
    """What to tell the user about `exc`, whichever face caught it.

    A missing schema or a store refusing us is what the user must fix, even when a core
    function wrapped it in a more generic error ("the database refused the query"), so the
    whole cause chain is searched for those first. Otherwise an error raised on purpose
    stands as it is, and an unexpected one is classified; None means "internal error".
    """
    if isinstance(exc, _ROOT_CAUSES):
        return exc
    for link in _chain(exc):
        if isinstance(link, _ROOT_CAUSES):
            return link
        for rule in _INFRASTRUCTURE:
            if (found := rule(link)) is not None:
                return found
    if isinstance(exc, SophiaError):
        return exc
    return classify(exc)
