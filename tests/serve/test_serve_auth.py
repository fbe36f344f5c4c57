"""Bearer tokens: every way a token can be wrong is refused with 401/403, never a crash."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from serve_helpers import PREVIOUS_SECRET, SECRET, Api

from sophia_cli.core.auth.tokens import Scope, issue_token, key_id, verify_token
from sophia_cli.core.errors import AuthenticationError, ConfigError
from sophia_cli.core.settings import Settings, load_settings

ROUTE = "/v1/squad/budget"  # any route needing a scope; `squad` here


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, object], claims: dict[str, object], signature: str = "") -> str:
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), signature]
    )


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "mallory", "scope": "squad admin", "iat": now, "exp": now + 300} | overrides


def assert_refused(api: Api, token: str, status: int = 401) -> dict[str, object]:
    response = api.get(ROUTE, token=token)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body["error"]) == {"code", "message", "hint"}
    return body["error"]  # type: ignore[no-any-return]


def test_missing_token_is_401_with_www_authenticate(api: Api) -> None:
    response = api.get(ROUTE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "unauthenticated"


def test_basic_auth_scheme_is_401(api: Api) -> None:
    response = api.get(ROUTE, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "garbage",
    ["x", "a.b", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.%%%.zzz", "é.é.é", "Bearer Bearer"],
)
def test_malformed_token_is_401(api: Api, garbage: str) -> None:
    assert_refused(api, garbage)


def test_oversized_token_is_401(api: Api) -> None:
    assert "too long" in str(assert_refused(api, "a" * 20_000)["message"])


def test_alg_none_is_401(api: Api) -> None:
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": key_id(SECRET)}, _claims())
    assert "algorithm" in str(assert_refused(api, token)["message"])


def test_rs256_token_is_401(api: Api) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(_claims(), private, algorithm="RS256", headers={"kid": key_id(SECRET)})
    assert_refused(api, token)


def test_hs256_signed_with_an_rsa_public_key_is_401(api: Api) -> None:
    # Key confusion: a verifier that used a public key as an HMAC secret would accept this.
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": key_id(SECRET)}
    signing_input = _unsigned(header, _claims()).rsplit(".", 1)[0]
    import hashlib
    import hmac

    signature = _b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    assert_refused(api, f"{signing_input}.{signature}")


def test_hs512_token_is_401(api: Api) -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS512", headers={"kid": key_id(SECRET)})
    assert "algorithm" in str(assert_refused(api, token)["message"])


def test_forged_signature_with_the_current_kid_is_401(api: Api) -> None:
    forged = jwt.encode(_claims(), "x" * 64, algorithm="HS256", headers={"kid": key_id(SECRET)})
    assert_refused(api, forged)


def test_tampered_claims_are_401(api: Api, token: Callable[..., str]) -> None:
    header, _claims_part, signature = token("ask").split(".")
    tampered = f"{header}.{_b64(json.dumps(_claims()).encode())}.{signature}"
    assert_refused(api, tampered)


def test_unknown_or_missing_kid_is_401(api: Api) -> None:
    assert_refused(api, jwt.encode(_claims(), SECRET, algorithm="HS256", headers={"kid": "nope"}))
    assert_refused(api, jwt.encode(_claims(), SECRET, algorithm="HS256"))


def test_expired_token_is_401(api: Api, api_settings: Settings) -> None:
    old = issue_token(api_settings, "bridge", [Scope.SQUAD], 60, now=time.time() - 3600)
    assert "expired" in str(assert_refused(api, old)["message"])


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "squad"},  # no sub, no exp
        _claims(exp="tomorrow"),
        _claims(sub=""),
        _claims(sub=42),
        _claims(scope=7),
        _claims(scope=[1, 2]),
    ],
)
def test_malformed_claims_are_401(api: Api, claims: dict[str, object]) -> None:
    token = jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": key_id(SECRET)})
    assert_refused(api, token)


def test_wrong_scope_is_403(api: Api, token: Callable[..., str]) -> None:
    error = assert_refused(api, token("ask", "sync"), status=403)
    assert error["code"] == "forbidden"
    assert "squad" in str(error["message"])


def test_the_required_scope_is_admitted(api: Api, token: Callable[..., str]) -> None:
    assert api.get(ROUTE, token=token("squad")).status_code == 200


def test_admin_scope_allows_every_route(api: Api, token: Callable[..., str]) -> None:
    assert api.get(ROUTE, token=token("admin")).status_code == 200


def test_admin_routes_refuse_other_scopes(api: Api, token: Callable[..., str]) -> None:
    every_other = token("ask", "query", "sync", "squad")
    assert api.get("/v1/db/status", token=every_other).status_code == 403


def test_tokens_of_the_previous_secret_verify_during_rotation(
    monkeypatch: pytest.MonkeyPatch, api_settings: Settings
) -> None:
    monkeypatch.setenv("JWT_SECRET", PREVIOUS_SECRET)
    old_token = issue_token(load_settings(), "bridge", [Scope.ASK], 300)
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("JWT_SECRET_PREVIOUS", PREVIOUS_SECRET)
    assert verify_token(load_settings(), old_token).sub == "bridge"
    monkeypatch.delenv("JWT_SECRET_PREVIOUS")
    with pytest.raises(AuthenticationError, match="unknown kid"):
        verify_token(load_settings(), old_token)


def test_new_tokens_are_signed_with_the_current_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("JWT_SECRET_PREVIOUS", PREVIOUS_SECRET)
    token = issue_token(load_settings(), "bridge", [Scope.ASK], 60)
    assert jwt.get_unverified_header(token)["kid"] == key_id(SECRET)


def test_server_without_secret_refuses_tokens_in_development(
    monkeypatch: pytest.MonkeyPatch, stores_env: dict[str, str], make_api: Callable[..., Api]
) -> None:
    api = make_api(load_settings())
    token = jwt.encode(_claims(), SECRET, algorithm="HS256", headers={"kid": key_id(SECRET)})
    error = assert_refused(api, token)
    assert "JWT_SECRET" in str(error["message"])


@pytest.mark.parametrize("value", [None, "short-secret"])
def test_production_refuses_to_start_without_a_strong_secret(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    from sophia_cli.server.app import create_app

    monkeypatch.setenv("SOPHIA_ENV", "production")
    if value:
        monkeypatch.setenv("JWT_SECRET", value)
    with pytest.raises(ConfigError, match="refusing to serve in production"):
        create_app(load_settings())


def test_auth_failures_are_counted_in_metrics(api: Api, token: Callable[..., str]) -> None:
    api.get(ROUTE, token="garbage")
    api.get(ROUTE, token=token("ask"))
    text = api.get("/metrics").text
    assert 'sophia_auth_failures_total{reason="unauthenticated"} 1.0' in text
    assert 'sophia_auth_failures_total{reason="forbidden"} 1.0' in text
