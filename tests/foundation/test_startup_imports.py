"""Start-up stays cheap: help and version load no library they do not need.

`sophia --help`, `sophia db --help` and `sophia --version` are answered by Typer alone.
Typer 0.29 checks option values through pydantic; sophia hands a missing value or a plain
string straight through (cli/coercion.py), so help never imports pydantic, and the stores'
clients are imported only by the commands that talk to them. Times are in bench/startup.py.
"""

from __future__ import annotations

import pytest

STORE_AND_MODEL_LIBRARIES = (
    "pydantic", "pydantic_settings", "psycopg", "redis", "yaml", "litellm", "pymilvus",
    "fastapi", "numpy", "filelock",
)  # fmt: skip


@pytest.mark.parametrize(
    "args", [("--help",), ("db", "--help"), ("--version",), ("ask", "--help")], ids=" ".join
)
def test_help_and_version_import_no_store_or_model_library(imports_of, args) -> None:
    run = imports_of(*args)
    assert run.exit_code == 0, run.stderr
    assert run.heavy(*STORE_AND_MODEL_LIBRARIES) == []


def test_help_of_a_group_builds_no_pydantic_validators(imports_of) -> None:
    # The root's --env-file and --dir are checked before `db --help` prints: unset, they
    # need no validator (Typer would build one per option, importing pydantic).
    run = imports_of("db", "--help")
    assert run.heavy("typer._adapters", "pydantic_core") == []


def test_a_value_that_needs_checking_is_still_checked_by_typer(sophia) -> None:
    result = sophia("query", "SELECT 1", "--limit", "many")
    assert result.exit_code == 2
    assert "Invalid value for '--limit': Input should be a valid integer" in result.stderr


def test_a_choice_is_still_matched_by_typer(sophia) -> None:
    result = sophia("ask", "won revenue", "--format", "yaml")
    assert result.exit_code == 2
    assert "'yaml' is not one of 'table', 'tsv', 'csv', 'json'" in result.stderr


def test_a_command_on_postgresql_alone_does_not_import_redis(imports_of, stores_env) -> None:
    run = imports_of("query", "SELECT 1 AS one", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.heavy("redis", "filelock") == []
