"""API tokens: issue and verify HS256 JWTs with scopes and key rotation by `kid`.

The CLI (`sophia token issue`) and the server share these functions, so a token the CLI
prints is exactly what the server accepts. Each token names its signing key in the `kid`
header (a fingerprint of the secret, never the secret). During a rotation JWT_SECRET signs
new tokens and JWT_SECRET_PREVIOUS still verifies the old ones until it is removed.
"""

from __future__ import annotations

import hashlib
import re
import time
from enum import StrEnum

from pydantic import BaseModel

from sophia_cli.core.errors import AuthenticationError, ConfigError, InputError
from sophia_cli.core.settings import Settings

ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 64
MAX_TOKEN_LENGTH = 8192
_CLOCK_SKEW_S = 300  # a bearer header longer than this is not ours; refuse before parsing
_TTL_PATTERN = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Scope(StrEnum):
    """What a token allows; `admin` allows everything."""

    ASK = "ask"
    QUERY = "query"
    SYNC = "sync"
    SQUAD = "squad"
    ADMIN = "admin"


class TokenClaims(BaseModel):
    """The verified content of a token."""

    sub: str
    scopes: list[Scope]
    expires_at: int
    issued_at: int | None = None
    kid: str

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes


def key_id(secret: str) -> str:
    """A short public fingerprint of a secret, used as the token's `kid`."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def parse_ttl(text: str, option: str = "--ttl") -> int:
    """`90`, `30s`, `15m`, `1h`, `7d` to seconds (`option` names it in the error)."""
    match = _TTL_PATTERN.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise InputError(
            f"{option} {text!r} is not a duration",
            hint="Use a positive number with an optional unit: 30s, 15m, 1h, 7d.",
        )
    return int(match.group(1)) * _TTL_UNITS[match.group(2)]


def parse_scopes(text: str) -> list[Scope]:
    """`ask,sync` (commas or spaces) to scopes, refusing unknown names."""
    names = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    known = {scope.value for scope in Scope}
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise InputError(
            f"unknown scope {', '.join(unknown) or '(none given)'}",
            hint=f"Use one or more of: {', '.join(sorted(known))}.",
        )
    return [Scope(name) for name in dict.fromkeys(names)]


def secret_problem(settings: Settings) -> str | None:
    """Why JWT_SECRET cannot sign tokens, or None when it can."""
    secret = settings.secret_value("jwt_secret")
    if secret is None:
        return "JWT_SECRET is not set"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"JWT_SECRET has {len(secret)} characters; at least {MIN_SECRET_LENGTH} are required"
    return None


def require_signing_secret(settings: Settings) -> str:
    """The current secret, or ConfigError when it is missing or too short."""
    problem = secret_problem(settings)
    if problem is not None:
        raise ConfigError(
            problem, hint="Set JWT_SECRET to 64+ random characters (e.g. `openssl rand -hex 32`)."
        )
    secret = settings.secret_value("jwt_secret")
    assert secret is not None
    return secret


def verification_keys(settings: Settings) -> dict[str, str]:
    """Secrets accepted for verification, keyed by their `kid`."""
    keys: dict[str, str] = {}
    for name in ("jwt_secret", "jwt_secret_previous"):
        secret = settings.secret_value(name)
        if secret:
            keys[key_id(secret)] = secret
    return keys


def max_ttl_s(settings: Settings) -> int:
    """The longest lifetime a token may have (JWT_MAX_TTL_DAYS)."""
    return int(settings.jwt_max_ttl_days * 86400)


def issue_token(
    settings: Settings, sub: str, scopes: list[Scope], ttl_s: int, *, now: float | None = None
) -> str:
    """Sign a token for `sub` with `scopes`, valid for `ttl_s` seconds."""
    import jwt

    if not sub.strip():
        raise InputError("--sub must not be empty", hint="Name the service or person, e.g. bridge.")
    if ttl_s > max_ttl_s(settings):
        raise InputError(
            f"--ttl of {ttl_s}s is longer than the maximum token lifetime of "
            f"{settings.jwt_max_ttl_days:g} days",
            hint="Issue a shorter-lived token and rotate it, or raise JWT_MAX_TTL_DAYS.",
        )
    secret = require_signing_secret(settings)
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": sub,
        "scope": " ".join(scope.value for scope in scopes),
        "iat": issued,
        "exp": issued + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM, headers={"kid": key_id(secret)})


def _refuse(message: str) -> AuthenticationError:
    return AuthenticationError(message)


def verify_token(settings: Settings, token: str, *, now: float | None = None) -> TokenClaims:
    """Check a token's algorithm, key, signature, expiry and claims; AuthenticationError if not.

    Only HS256 is accepted, so `alg: none` and RS256/HS256 confusion are refused before any
    key is used; the key is chosen by `kid` among the configured secrets only.
    """
    import jwt

    if len(token) > MAX_TOKEN_LENGTH:
        raise _refuse("bearer token is too long")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _refuse(f"malformed bearer token: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise _refuse(f"token algorithm {str(header.get('alg'))[:20]!r} is not accepted")
    keys = verification_keys(settings)
    if not keys:
        raise AuthenticationError(
            "the server has no JWT_SECRET configured", hint="Set JWT_SECRET on the server."
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in keys:
        raise _refuse("token was not signed by a current key (unknown kid)")
    try:
        # With an explicit `now` (tests, replays) expiry is checked against it in _claims.
        claims = jwt.decode(
            token,
            keys[kid],
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "scope"], "verify_exp": now is None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _refuse("token has expired") from exc
    except jwt.PyJWTError as exc:
        raise _refuse(f"token refused: {exc}") from exc
    return _claims(claims, kid, now, max_ttl_s(settings))


def _claims(claims: dict[str, object], kid: str, now: float | None, max_ttl: int) -> TokenClaims:
    exp, sub, scope, iat = claims["exp"], claims["sub"], claims["scope"], claims.get("iat")
    if not isinstance(exp, int) or not isinstance(sub, str) or not sub:
        raise _refuse("token claims are malformed")
    current = now if now is not None else time.time()
    if now is not None and exp <= now:
        raise _refuse("token has expired")
    if exp > current + max_ttl + _CLOCK_SKEW_S:
        raise _refuse("token lives longer than the maximum token lifetime")
    names = scope.split() if isinstance(scope, str) else scope
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise _refuse("token scope claim is malformed")
    known = {s.value for s in Scope}
    return TokenClaims(
        sub=sub,
        scopes=[Scope(name) for name in names if name in known],
        expires_at=exp,
        issued_at=iat if isinstance(iat, int) else None,
        kid=kid,
    )
