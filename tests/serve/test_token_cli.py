"""`sophia token` and the startup checks of `sophia serve`, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys

import jwt
import pytest

from sophia_cli.core.auth.tokens import key_id, verify_token
from sophia_cli.core.settings import load_settings


def test_issue_prints_the_token_alone_on_stdout(sophia, secret: str) -> None:  # type: ignore[no-untyped-def]
    result = sophia("token", "issue", "--sub", "bridge", "--scope", "ask,sync", "--ttl", "1h")
    assert result.exit_code == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    claims = verify_token(load_settings(), token)
    assert claims.sub == "bridge" and [s.value for s in claims.scopes] == ["ask", "sync"]
    assert claims.expires_at - (claims.issued_at or 0) == 3600
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": key_id(secret)}


def test_verify_shows_the_claims_as_json(sophia, secret: str) -> None:  # type: ignore[no-untyped-def]
    token = sophia("token", "issue", "--sub", "ci", "--scope", "admin").stdout.strip()
    result = sophia("token", "verify", token, "--json")
    assert json.loads(result.stdout)["scopes"] == ["admin"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "ask,write"], "unknown scope write"),
        (["--scope", ""], "unknown scope"),
        (["--scope", "ask", "--ttl", "soon"], "--ttl 'soon' is not a duration"),
        (["--scope", "ask", "--ttl", "0m"], "is not a duration"),
    ],
)
def test_issue_refuses_bad_input_in_one_line(  # type: ignore[no-untyped-def]
    sophia, secret: str, args: list[str], message: str
) -> None:
    result = sophia("token", "issue", "--sub", "x", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("value", [None, "too-short"])
def test_issue_needs_a_strong_secret(  # type: ignore[no-untyped-def]
    sophia, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value:
        monkeypatch.setenv("JWT_SECRET", value)
    result = sophia("token", "issue", "--sub", "x", "--scope", "ask")
    assert result.exit_code == 2
    assert "JWT_SECRET" in result.stderr and result.stdout == ""


def test_verify_refuses_a_forged_token(sophia, secret: str) -> None:  # type: ignore[no-untyped-def]
    forged = jwt.encode(
        {"sub": "x", "scope": "admin", "exp": 2**31},
        "y" * 64,
        algorithm="HS256",
        headers={"kid": key_id(secret)},
    )
    result = sophia("token", "verify", forged, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "unauthenticated"


def test_serve_refuses_production_without_a_secret(  # type: ignore[no-untyped-def]
    sophia, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_ENV", "production")
    result = sophia("serve", "--port", "1")
    assert result.exit_code == 2
    assert "refusing to serve in production: JWT_SECRET is not set" in result.stderr


def test_serve_refuses_the_same_port_twice(sophia, secret: str) -> None:  # type: ignore[no-untyped-def]
    result = sophia("serve", "--port", "18555", "--legacy-port", "18555")
    assert result.exit_code == 2
    assert "ports must differ" in result.stderr


def test_help_does_not_import_the_server_stack() -> None:
    code = (
        "import sys; from sophia_cli.cli.main import run; run(['--help']); "
        "heavy = {'fastapi', 'uvicorn', 'jwt', 'prometheus_client', 'mcp', 'starlette'}; "
        "print(sorted(heavy & set(sys.modules)), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stderr.strip().splitlines()[-1] == "[]"
