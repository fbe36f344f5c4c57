"""Errors reach users as one clear line, or one JSON object with --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import typer

from sophia_cli.cli import main as cli_main
from sophia_cli.core.errors import ServiceUnavailableError


@pytest.fixture
def failing_command():
    """Temporarily add `sophia boom` raising a given exception."""
    holder: dict[str, BaseException] = {}

    @cli_main.app.command("boom", hidden=True)
    def boom(json_output: bool = typer.Option(False, "--json")) -> None:
        raise holder["error"]

    yield holder
    cli_main.app.registered_commands[:] = [
        c for c in cli_main.app.registered_commands if c.name != "boom"
    ]


def test_sophia_error_is_one_line_with_a_hint(sophia, failing_command) -> None:
    failing_command["error"] = ServiceUnavailableError(
        "Redis at x:1 is unreachable", hint="Start it."
    )
    result = sophia("boom")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: Redis at x:1 is unreachable", "hint: Start it."]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_sophia_error_with_json_is_the_error_body(sophia, failing_command) -> None:
    failing_command["error"] = ServiceUnavailableError("down", hint="Start it.")
    result = sophia("boom", "--json")
    assert json.loads(result.stdout) == {
        "error": {"code": "service_unavailable", "message": "down", "hint": "Start it."}
    }


def test_global_json_flag_also_shapes_errors(sophia, failing_command) -> None:
    failing_command["error"] = ServiceUnavailableError("down")
    result = sophia("--json", "boom")
    assert json.loads(result.stdout)["error"]["code"] == "service_unavailable"


def test_unexpected_exception_is_one_line_not_a_traceback(sophia, failing_command) -> None:
    failing_command["error"] = KeyError("surprise")
    result = sophia("boom")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: internal error: KeyError")
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(sophia, failing_command) -> None:
    failing_command["error"] = ServiceUnavailableError("down")
    with pytest.raises(ServiceUnavailableError):
        sophia("--debug", "boom")


def test_unknown_command_is_a_usage_error(sophia) -> None:
    result = sophia("frobnicate")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_missing_env_file_is_a_usage_error(sophia, tmp_path) -> None:
    result = sophia("--env-file", str(tmp_path / "nope.env"), "db", "status")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_bad_setting_is_a_config_error_naming_it(sophia, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_MAX", "many")
    result = sophia("db", "status", "--json")
    assert result.exit_code == 2
    assert "DATABASE_POOL_MAX" in json.loads(result.stdout)["error"]["message"]


def test_version_prints_the_version(sophia) -> None:
    from sophia_cli import __version__

    assert sophia("--version").stdout.strip() == f"sophia {__version__}"


def test_python_dash_m_runs_the_same_app() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sophia_cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("sophia ")


def test_help_does_not_import_heavy_libraries() -> None:
    probe = (
        "import sys\n"
        "from sophia_cli.cli.main import run\n"
        "try:\n    run(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('litellm', 'pymilvus', 'fastapi', 'pandas', 'sqlglot', 'uvicorn',"
        " 'boto3') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert "HEAVY=\n" in result.stdout + "\n"
    assert result.stdout.strip().splitlines()[-1] == "HEAVY="


def test_mcp_in_a_terminal_says_what_it_is_for(sophia, monkeypatch) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    result = sophia("mcp")
    assert result.exit_code == 2
    assert "MCP client" in result.stderr


def test_a_file_path_in_milvus_uri_is_milvus_lite_file_mode(tmp_path) -> None:
    # A fresh process: pymilvus reads MILVUS_URI when first imported.
    env = {**os.environ, "MILVUS_URI": str(tmp_path / "milvus.db")}
    finished = subprocess.run(
        [sys.executable, "-m", "sophia_cli", "search", "renewal", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["hits"] == []


def test_an_unwritable_junit_path_names_the_path(sophia, tmp_path) -> None:
    target = tmp_path / "missing-folder" / "doctor.xml"
    result = sophia("doctor", "--category", "config", "--junit", str(target))
    assert result.exit_code == 2
    assert str(target) in result.stderr and "internal error" not in result.stderr


def test_an_out_path_that_is_a_file_is_a_usage_error(sophia, tmp_path) -> None:
    blocker = tmp_path / "manifests"
    blocker.write_text("not a folder")
    result = sophia("deploy", "render", "--out", str(blocker))
    assert result.exit_code == 2
    assert str(blocker) in result.stderr and "internal error" not in result.stderr
