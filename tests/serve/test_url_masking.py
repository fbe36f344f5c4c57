"""A malformed store URL is reported without its password: CLI, doctor, db status, /ready."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sophia_cli.core import urls
from sophia_cli.core.settings import load_settings

SECRET = "Tr0ub4dor"
MALFORMED = {
    "unencoded @": f"postgresql://app:{SECRET}@x@127.0.0.1:1/db",
    "space": f"postgresql://app:{SECRET} x@127.0.0.1:1/db",
    "bad escape": f"postgresql://app:{SECRET}%zz@127.0.0.1:1/db",
    "unencoded slash": f"postgresql://app:{SECRET}/x@127.0.0.1:1/db",
    "bad port": f"postgresql://app:{SECRET}@127.0.0.1:port/db",
}
FRAGMENTS = (SECRET, SECRET[:6], "x@127", "%zz", f"{SECRET} x")


@pytest.fixture
def other_stores(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    """Redis is the test one and Milvus is absent, so commands only wait on PostgreSQL."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("MILVUS_URI", "http://127.0.0.1:1")


def assert_no_secret(text: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in text, f"{fragment!r} leaked in: {text[:300]}"


@pytest.mark.parametrize("url", MALFORMED.values(), ids=MALFORMED.keys())
def test_the_url_reader_names_the_problem_and_masks_the_user_info(url: str) -> None:
    assert urls.problem(url) is not None
    assert_no_secret(urls.problem(url) or "")
    assert_no_secret(urls.describe(url))
    assert_no_secret(urls.mask(url))
    assert "127.0.0.1" in urls.describe(url) or "malformed" in urls.describe(url)


def test_a_well_formed_url_has_no_problem_and_keeps_its_host() -> None:
    url = "postgresql://app:p%40ss@db.example.com:6543/warehouse"
    assert urls.problem(url) is None
    assert urls.describe(url) == "db.example.com:6543/warehouse"
    assert urls.mask(url) == "postgresql://•••@db.example.com:6543/•••"


def test_scrub_masks_every_piece_of_the_user_info() -> None:
    url = f"postgresql://app:{SECRET}@x@127.0.0.1:1/db"
    text = f"failed to resolve host 'x@127.0.0.1' for user app password {SECRET}"
    assert_no_secret(urls.scrub(text, url))


@pytest.mark.parametrize("url", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize(
    "command",
    [("doctor", "--json", "-c", "stores"), ("db", "status", "--json"), ("db", "upgrade")],
    ids=["doctor", "db-status", "db-upgrade"],
)
def test_commands_never_echo_a_malformed_database_url(
    other_stores: None,
    sophia: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    command: tuple[str, ...],
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    result = sophia(*command)
    assert result.exit_code != 0 or "malformed" in result.stdout
    assert_no_secret(result.stdout + result.stderr)
    assert "malformed" in (result.stdout + result.stderr)


@pytest.mark.parametrize("url", MALFORMED.values(), ids=MALFORMED.keys())
def test_env_check_flags_a_malformed_url_without_repeating_it(
    sophia: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env.master").write_text(f"DATABASE_URL={url}\n")
    (tmp_path / ".env.master").chmod(0o600)
    result = sophia("env", "check", "--json")
    assert_no_secret(result.stdout + result.stderr)
    assert "DATABASE_URL" in result.stdout and "malformed" in result.stdout


@pytest.mark.parametrize("url", MALFORMED.values(), ids=MALFORMED.keys())
def test_ready_never_echoes_a_malformed_database_url(
    other_stores: None,
    secret: str,
    monkeypatch: pytest.MonkeyPatch,
    make_api: Callable[..., Any],
    url: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    api = make_api(load_settings())
    response = api.get("/ready")
    assert response.status_code == 503
    assert_no_secret(response.text)
    assert "malformed" in response.text
