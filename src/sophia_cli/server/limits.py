"""Bounds on what one caller can take from a worker: request body size and concurrent work.

OWASP API4 (unrestricted resource consumption): a body is refused with 413 before it is
read past the limit, and one token may hold only SOPHIA_TOKEN_CONCURRENCY requests
of a worker at once (429 with Retry-After beyond that), so a caller sending slow queries
cannot take every thread from everyone else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sophia_cli.core.errors import RateLimitedError, SophiaError
from sophia_cli.server.metrics import ASGIApp, Message, Receive, Scope, Send

RETRY_AFTER_BUSY_S = 1.0


class PayloadTooLargeError(SophiaError):
    """The request body is larger than the server accepts."""

    code = "payload_too_large"
    http_status = 413
    default_hint = "Send a smaller body (SOPHIA_MAX_BODY_BYTES sets the limit)."


class BodyLimitMiddleware:
    """413 for bodies over `limit` bytes: by Content-Length at once, else while reading.

    A body without a declared length is read here, up to the limit, and handed on whole:
    the routes parse JSON bodies in full anyway, and FastAPI turns an error raised while it
    reads into a 400 that would hide the real cause.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await self._refuse(scope, send)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            await self._refuse(scope, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        from sophia_cli.server.errors import error_response

        error = PayloadTooLargeError(f"the request body is larger than {self.limit:,} bytes")
        await error_response(error)(scope, _empty, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _empty() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class SubjectConcurrency:
    """How many requests each token subject has in progress in this worker."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._active: Counter[str] = Counter()

    @contextmanager
    def slot(self, subject: str) -> Iterator[None]:
        """Hold one of the subject's slots for the request; RateLimitedError when none free."""
        if self.limit <= 0:
            yield
            return
        if self._active[subject] >= self.limit:
            raise RateLimitedError(
                f"{self.limit} requests of this token are already in progress",
                retry_after_s=RETRY_AFTER_BUSY_S,
                hint="Wait for earlier requests to finish (SOPHIA_TOKEN_CONCURRENCY).",
            )
        self._active[subject] += 1
        try:
            yield
        finally:
            self._active[subject] -= 1
            if self._active[subject] <= 0:
                del self._active[subject]

    def active(self, subject: str) -> int:
        return self._active[subject]
