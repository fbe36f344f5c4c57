"""Bearer-token authentication, scope checks and the rate limit, as route dependencies.

`guard(Scope.ASK)` is all a route declares: the token is verified (401 otherwise), its
scope checked (403), then the subject's request counted against the shared limit (429).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sophia_cli.core.auth.tokens import Scope, TokenClaims, verify_token
from sophia_cli.core.errors import AuthenticationError, PermissionDeniedError, SophiaError
from sophia_cli.server.metrics import route_template

if TYPE_CHECKING:
    from sophia_cli.server.state import ServerState

# auto_error=False: missing credentials get our error shape, not FastAPI's.
bearer_scheme = HTTPBearer(auto_error=False, description="A token from `sophia token issue`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.sophia
    return state


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> TokenClaims:
    """The verified claims of the request's bearer token."""
    state = server_state(request)
    if credentials is None:
        raise AuthenticationError("missing bearer token")
    try:
        return verify_token(state.settings, credentials.credentials)
    except SophiaError:
        raise
    except Exception as exc:  # never let a hostile token crash a worker
        raise AuthenticationError("malformed bearer token") from exc


def authorize(claims: TokenClaims, scope: Scope) -> None:
    """PermissionDeniedError unless the token carries `scope` (or admin)."""
    if not claims.allows(scope):
        raise PermissionDeniedError(
            f"token for {claims.sub!r} lacks the {scope.value!r} scope",
            hint=f"Issue a token with `sophia token issue --scope {scope.value}`.",
        )


def identify(
    request: Request, credentials: HTTPAuthorizationCredentials | None, scope: Scope | None
) -> TokenClaims:
    """The verified claims of a token that carries `scope` (any valid token when None);
    401/403 otherwise (counted)."""
    state = server_state(request)
    try:
        claims = authenticate(request, credentials)
        request.state.subject = claims.sub
        if scope is not None:
            authorize(claims, scope)
    except SophiaError as exc:
        state.metrics.auth_failures.labels(exc.code).inc()
        raise
    return claims


async def admit(
    request: Request, credentials: HTTPAuthorizationCredentials | None, scope: Scope | None
) -> TokenClaims:
    """Identify the caller and count the request against the shared rate limit."""
    claims = identify(request, credentials, scope)
    await server_state(request).limiter.check(request, claims.sub, route_template(request.scope))
    return claims


def guard(scope: Scope | None) -> Callable[..., AsyncIterator[TokenClaims]]:
    """A dependency that identifies the caller (any valid token when `scope` is None),
    holds one of its token's concurrency slots in this worker until the response is done,
    and counts the request against the rate limit (a request refused for concurrency is
    not counted)."""

    async def dependency(request: Request, credentials: Credentials) -> AsyncIterator[TokenClaims]:
        claims = identify(request, credentials, scope)
        state = server_state(request)
        with state.concurrency.slot(claims.sub):
            await state.limiter.check(request, claims.sub, route_template(request.scope))
            yield claims

    return dependency


def requires(scope: Scope) -> Any:
    """`dependencies=[requires(Scope.ASK)]` for routes that do not need the claims."""
    return Depends(guard(scope))
