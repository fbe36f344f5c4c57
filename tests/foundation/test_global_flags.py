"""`--json`, `--debug` and `--env-file` work wherever they are written, and `--json` always
means one JSON document on stdout, usage errors included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from sophia_cli.cli.main import app, hoist_global_options
from sophia_cli.core.errors import ExitCode

SECRET = "k9" * 40
# Long-running servers print no result to shape as JSON.
_NO_RESULT = {"serve", "mcp"}


def _leaf_commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield " ".join(path), command
        return
    for name, sub in subcommands.items():
        yield from _leaf_commands(sub, (*path, name))


def test_every_command_that_prints_a_result_accepts_json() -> None:
    lacking = [
        name
        for name, command in _leaf_commands(typer.main.get_command(app))
        if name not in _NO_RESULT
        and "--json" not in {opt for param in command.params for opt in getattr(param, "opts", [])}
    ]
    assert lacking == []


def test_global_flags_after_the_command_move_to_the_root() -> None:
    assert hoist_global_options(["token", "verify", "T", "--json", "--debug"]) == [
        "--json",
        "--debug",
        "token",
        "verify",
        "T",
    ]


def test_env_file_after_the_command_keeps_its_value() -> None:
    assert hoist_global_options(["db", "status", "--env-file", "x.env"]) == [
        "--env-file",
        "x.env",
        "db",
        "status",
    ]
    assert hoist_global_options(["db", "status", "--env-file=x.env"]) == [
        "--env-file=x.env",
        "db",
        "status",
    ]


def test_nothing_after_a_double_dash_is_moved() -> None:
    assert hoist_global_options(["query", "--", "--json"]) == ["query", "--", "--json"]


def test_token_issue_with_json_prints_the_token_in_an_object(sophia, monkeypatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    result = sophia("token", "issue", "--sub", "bridge", "--scope", "ask,sync", "--json")
    assert result.exit_code == 0
    body = result.json()
    assert body["token"].count(".") == 2
    assert (body["sub"], body["scopes"], body["ttl_s"]) == ("bridge", ["ask", "sync"], 3600)


def test_json_before_the_command_shapes_token_issue_too(sophia, monkeypatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    result = sophia("--json", "token", "issue", "--sub", "bridge", "--scope", "ask")
    assert result.json()["sub"] == "bridge"


def test_deploy_render_with_json_prints_every_manifest(sophia) -> None:
    result = sophia("--json", "deploy", "render", "--replicas", "2")
    manifests = result.json()["manifests"]
    assert manifests["deployment.yaml"]["spec"]["replicas"] == 2


def test_a_usage_error_with_json_is_the_error_body_on_stdout(sophia) -> None:
    result = sophia("deploy", "render", "--bogus", "--json")
    assert result.exit_code == ExitCode.USAGE
    error = result.json()["error"]
    assert error["code"] == "usage"
    assert "--bogus" in error["message"]
    assert "sophia deploy render --help" in error["hint"]


def test_an_unknown_command_with_json_is_the_error_body_on_stdout(sophia) -> None:
    result = sophia("--json", "frobnicate")
    assert result.exit_code == ExitCode.USAGE
    assert result.json()["error"]["code"] == "usage"


def test_a_usage_error_without_json_leaves_stdout_empty(sophia) -> None:
    result = sophia("deploy", "render", "--bogus")
    assert result.exit_code == ExitCode.USAGE
    assert result.stdout == ""
    assert "--bogus" in result.stderr


def test_debug_after_the_command_shows_the_traceback(sophia, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        sophia("db", "status", "--env-file", str(tmp_path / "nope.env"), "--debug")


def test_env_file_after_the_command_is_read(sophia, tmp_path: Path, monkeypatch) -> None:
    env_file = tmp_path / "team.env"
    env_file.write_text(f"JWT_SECRET={SECRET}\n", encoding="utf-8")
    result = sophia("token", "issue", "--sub", "a", "--scope", "ask", "--env-file", str(env_file))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count(".") == 2


def test_sync_json_is_the_report_models_own_json(sophia) -> None:
    from sophia_cli.core.sync.models import SyncReport

    body = sophia("sync", "--json").json()
    assert SyncReport.model_validate(body).model_dump(mode="json") == body
    assert {"ok", "totals", "run_id"} <= set(body)
