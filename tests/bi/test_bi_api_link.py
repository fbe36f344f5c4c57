"""Sign-in links: `sophia serve` prints one for the local operator, `sophia token issue
--link` prints one for someone else; the token is in the URL fragment, never logged."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from serve_helpers import Server, free_port

from sophia_cli.core.auth.links import operator
from sophia_cli.core.auth.tokens import Scope, verify_token
from sophia_cli.core.errors import AuthenticationError
from sophia_cli.core.settings import Settings, load_settings

LINK = re.compile(r"^Open (http://127\.0\.0\.1:(\d+)/)#token=(\S+)$", re.MULTILINE)


@pytest.fixture
def serve(bi_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`serve("--link", env={...})` runs `sophia serve` as a real process on a free port."""
    import os

    servers: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        server = Server(list(args), {**os.environ, **(env or {})}, port, log, tmp_path)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


def _stopped_log(server: Server) -> str:
    server.stop()
    return server.log.read_text()


def test_serve_prints_an_admin_sign_in_link_with_the_token_in_the_fragment(
    serve: Callable[..., Server], bi_settings: Settings
) -> None:
    server = serve()
    found = LINK.search(server.log.read_text())
    assert found is not None, server.log.read_text()
    assert found.group(1) == server.url + "/"
    claims = verify_token(bi_settings, found.group(3))
    assert claims.scopes == [Scope.ADMIN]
    assert claims.sub == operator()
    assert abs(claims.expires_at - time.time() - 12 * 3600) < 120
    me = httpx.get(server.url + "/v1/me", headers={"Authorization": f"Bearer {found.group(3)}"})
    assert me.json()["scopes"] == ["admin"]


def test_production_prints_no_link_unless_asked(serve: Callable[..., Server]) -> None:
    log = _stopped_log(serve(env={"SOPHIA_ENV": "production"}))
    assert "#token=" not in log
    assert "Open http" not in log


def test_production_prints_the_link_with_link_for_the_lifetime_asked(
    serve: Callable[..., Server], bi_settings: Settings
) -> None:
    log = _stopped_log(serve("--link", "--link-ttl", "15m", env={"SOPHIA_ENV": "production"}))
    found = LINK.search(log)
    assert found is not None
    claims = verify_token(bi_settings, found.group(3))
    assert abs(claims.expires_at - time.time() - 15 * 60) < 120


def test_a_bad_link_lifetime_is_one_clear_error_before_serving(
    sophia: Callable[..., object], bi_env: dict[str, str]
) -> None:
    result = sophia("serve", "--port", str(free_port()), "--link-ttl", "soon")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "--link-ttl 'soon' is not a duration" in result.stderr  # type: ignore[attr-defined]


def test_no_link_prints_none_in_development(serve: Callable[..., Server]) -> None:
    assert "#token=" not in _stopped_log(serve("--no-link"))


def test_tokens_sent_by_header_or_query_string_never_reach_the_log(
    serve: Callable[..., Server], token: Callable[..., str]
) -> None:
    server = serve("--no-link")
    secret_token = token("ask", sub="dana")
    headers = {"Authorization": f"Bearer {secret_token}"}
    assert httpx.get(f"{server.url}/v1/me", headers=headers).status_code == 200
    httpx.get(f"{server.url}/v1/me?token={secret_token}")
    httpx.get(f"{server.url}/?token={secret_token}")
    log = _stopped_log(server)
    assert '"route": "/v1/me"' in log
    assert secret_token not in log
    assert secret_token.split(".")[2] not in log


def test_token_issue_link_prints_a_link_for_another_user(
    sophia: Callable[..., object], bi_settings: Settings
) -> None:
    result = sophia("token", "issue", "--link", "--subject", "dana", "--scopes", "ask")
    printed = result.stdout.strip()  # type: ignore[attr-defined]
    base, _, jwt = printed.partition("/#token=")
    assert base == f"http://127.0.0.1:{bi_settings.sophia_port}"
    claims = verify_token(bi_settings, jwt)
    assert (claims.sub, claims.scopes) == ("dana", [Scope.ASK])


def test_the_link_uses_the_public_url(
    sophia: Callable[..., object], monkeypatch: pytest.MonkeyPatch, bi_env: dict[str, str]
) -> None:
    monkeypatch.setenv("SOPHIA_PUBLIC_URL", "https://bi.example.com/")
    printed = sophia("token", "issue", "--link", "--sub", "dana").stdout  # type: ignore[attr-defined]
    assert printed.startswith("https://bi.example.com/#token=")


def test_a_public_url_that_is_not_http_is_one_clear_error(
    sophia: Callable[..., object], monkeypatch: pytest.MonkeyPatch, bi_env: dict[str, str]
) -> None:
    monkeypatch.setenv("SOPHIA_PUBLIC_URL", "bi.example.com")
    result = sophia("token", "issue", "--link", "--sub", "dana")
    assert result.exit_code != 0  # type: ignore[attr-defined]
    assert "SOPHIA_PUBLIC_URL 'bi.example.com' is not an http(s) URL" in result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]


def test_token_issue_link_json_includes_the_link_and_the_12_hour_default(
    sophia: Callable[..., object], bi_settings: Settings
) -> None:
    result = sophia("token", "issue", "--link", "--sub", "dana", "--json")
    body = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert body["link"].endswith("/#token=" + body["token"])
    assert body["ttl_s"] == 12 * 3600
    assert body["scopes"] == ["ask"]


def test_the_links_lifetime_follows_the_setting(
    sophia: Callable[..., object], monkeypatch: pytest.MonkeyPatch, bi_env: dict[str, str]
) -> None:
    monkeypatch.setenv("SOPHIA_LINK_TTL_HOURS", "2")
    result = sophia("token", "issue", "--link", "--sub", "dana", "--json")
    assert json.loads(result.stdout)["ttl_s"] == 7200  # type: ignore[attr-defined]


def test_the_token_in_a_link_expires(sophia: Callable[..., object], bi_env: dict[str, str]) -> None:
    settings = load_settings()
    printed = sophia("token", "issue", "--link", "--sub", "dana", "--ttl", "1m").stdout  # type: ignore[attr-defined]
    jwt = printed.strip().partition("#token=")[2]
    claims = verify_token(settings, jwt)
    assert 0 < claims.expires_at - time.time() <= 60
    with pytest.raises(AuthenticationError, match="expired"):
        verify_token(settings, jwt, now=claims.expires_at + 1)


def test_token_issue_without_a_scope_or_link_says_what_to_add(
    sophia: Callable[..., object], bi_env: dict[str, str]
) -> None:
    result = sophia("token", "issue", "--sub", "dana")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "needs --scope" in result.stderr  # type: ignore[attr-defined]
