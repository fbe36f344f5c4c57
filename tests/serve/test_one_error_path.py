"""Both faces explain a failure the same way: one classification in core, two renderings.

Every command that reads the warehouse and the route serving the same function are run
against a warehouse without its schema and against a server that refuses connections; the
CLI's `--json` error body and the HTTP body must be equal, and the exit code is the one the
error's class declares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from serve_helpers import Api

from sophia_cli.core.errors import ExitCode, InputError, SophiaError
from sophia_cli.core.failures import classify, explain
from sophia_cli.core.settings import load_settings

# (command line, (method, path, json body, scope)) — one pair per face of one core function.
FACES: list[tuple[tuple[str, ...], tuple[str, str, dict[str, Any] | None, str]]] = [
    (("sync", "status"), ("GET", "/v1/sync/status", None, "sync")),
    (
        ("ask", "how many deals are open"),
        ("POST", "/v1/ask", {"question": "how many deals are open"}, "ask"),
    ),
    (
        ("query", "SELECT name FROM hubspot.deals"),
        ("POST", "/v1/query", {"sql": "SELECT name FROM hubspot.deals"}, "query"),
    ),
    (("squad", "budget"), ("GET", "/v1/squad/budget", None, "squad")),
    (("squad", "spend"), ("GET", "/v1/squad/spend", None, "squad")),
    (("squad", "savings"), ("GET", "/v1/squad/savings", None, "squad")),
]
REFUSING_SERVER = "postgresql://postgres@127.0.0.1:1/nowhere"


def _both_faces(
    sophia: Callable[..., Any], api: Api, token: Callable[..., str]
) -> list[tuple[str, dict[str, Any], int, dict[str, Any], int]]:
    seen = []
    for command, (method, path, body, scope) in FACES:
        cli = sophia(*command, "--json")
        response = api.request(method, path, token=token(scope), json=body)
        seen.append(
            (" ".join(command), cli.json(), cli.exit_code, response.json(), response.status_code)
        )
    return seen


@pytest.fixture
def faces(
    sophia: Callable[..., Any],
    make_api: Callable[..., Api],
    token: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[str], list[tuple[str, dict[str, Any], int, dict[str, Any], int]]]:
    def run(database_url: str) -> list[tuple[str, dict[str, Any], int, dict[str, Any], int]]:
        monkeypatch.setenv("DATABASE_URL", database_url)
        return _both_faces(sophia, make_api(load_settings()), token)

    return run


def test_a_warehouse_without_its_schema_says_to_run_db_upgrade_on_both_faces(
    faces: Callable[[str], list[Any]], fresh_database_url: str
) -> None:
    for command, cli, exit_code, http, status in faces(fresh_database_url):
        assert cli == http, command
        assert cli["error"]["code"] == "migration", command
        assert "sophia db " in cli["error"]["hint"], command  # db upgrade, or db init
        assert (exit_code, status) == (ExitCode.FAILURE, 500), command


def test_an_unreachable_warehouse_is_service_unavailable_on_both_faces(
    faces: Callable[[str], list[Any]],
) -> None:
    for command, cli, exit_code, http, status in faces(REFUSING_SERVER):
        assert cli == http, command
        assert cli["error"]["code"] == "service_unavailable", command
        assert "127.0.0.1:1/nowhere" in cli["error"]["message"], command
        assert "DATABASE_URL" in cli["error"]["hint"], command
        assert (exit_code, status) == (ExitCode.FAILURE, 503), command


def test_a_generic_error_wrapping_a_missing_table_is_explained_as_the_missing_schema() -> None:
    import psycopg

    try:
        try:
            raise psycopg.errors.UndefinedTable('relation "sophia.sync_runs" does not exist')
        except psycopg.Error as exc:
            raise SophiaError("the database refused the query", hint="Fix the SQL") from exc
    except SophiaError as wrapped:
        found = explain(wrapped)
    assert found is not None and found.code == "migration"


def test_an_unwritable_path_is_an_input_error_naming_the_path(tmp_path: Any) -> None:
    found = classify(PermissionError(13, "Permission denied", str(tmp_path / "out.xml")))
    assert found is not None
    assert (found.code, found.exit_code) == ("invalid_input", ExitCode.USAGE)
    assert str(tmp_path / "out.xml") in found.message


def test_an_error_nothing_recognises_is_left_to_each_face() -> None:
    assert explain(KeyError("surprise")) is None


def test_a_misspelt_column_in_a_users_sql_stays_the_users_error() -> None:
    import psycopg

    try:
        try:
            raise psycopg.errors.UndefinedColumn('column "nme" does not exist')
        except psycopg.Error as exc:
            raise InputError("the database refused the query", hint="Fix the SQL") from exc
    except InputError as wrapped:
        refused = wrapped
    assert explain(refused) is refused
