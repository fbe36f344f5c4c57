"""Settings come from the project, not the folder a command happens to run in.

Like git, sophia walks up from the working folder to the nearest folder holding env files,
stopping at the repository root; `--dir` names the folder outright; `env check` says which
folder it read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from env_helpers import Sophia, WriteEnv

from sophia_cli.core.env.project import find_project_dir

JWT = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b"


@pytest.fixture
def subfolder(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    deep = project / "src" / "app"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    return deep


def test_the_project_folder_is_found_from_a_subfolder(
    project: Path, write_env: WriteEnv, subfolder: Path
) -> None:
    write_env(".env.master", f"JWT_SECRET={JWT}\n")
    assert find_project_dir(subfolder) == project.resolve()


def test_a_command_in_a_subfolder_reads_the_projects_master_file(
    sophia: Sophia, project: Path, write_env: WriteEnv, subfolder: Path
) -> None:
    write_env(".env.master", f"JWT_SECRET={JWT}\n")
    result = sophia("token", "issue", "--sub", "a", "--scope", "ask")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count(".") == 2


def test_env_check_from_a_subfolder_reports_the_project_folder(
    sophia: Sophia, project: Path, write_env: WriteEnv, subfolder: Path
) -> None:
    write_env(".env.master", "SOPHIA_PORT=8100\n")
    report = sophia("env", "check", "--json").json()
    assert report["directory"] == str(project.resolve())
    port = next(v for v in report["variables"] if v["name"] == "SOPHIA_PORT")
    assert (port["value"], port["layer"]) == ("8100", ".env.master")


def test_env_check_says_which_folder_it_read(
    sophia: Sophia, project: Path, write_env: WriteEnv, subfolder: Path
) -> None:
    write_env(".env.master", "SOPHIA_PORT=8100\n")
    assert f"project folder: {project.resolve()}" in sophia("env", "check").stderr


def test_the_walk_stops_at_the_repository_root(tmp_path: Path, project: Path) -> None:
    (tmp_path / ".env.master").write_text("SOPHIA_PORT=9999\n", encoding="utf-8")
    inner = project / "docs"
    inner.mkdir()
    assert find_project_dir(inner) == project.resolve()


def test_outside_any_project_the_working_folder_is_used(tmp_path: Path) -> None:
    lonely = tmp_path / "a" / "b"
    lonely.mkdir(parents=True)
    assert find_project_dir(lonely) == lonely.resolve()


def test_dir_names_the_project_folder_outright(
    sophia: Sophia, tmp_path: Path, project: Path, write_env: WriteEnv
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / ".env.master").write_text("SOPHIA_PORT=8200\n", encoding="utf-8")
    (other / ".env.master").chmod(0o600)
    write_env(".env.master", "SOPHIA_PORT=8100\n")
    for args in (
        ("--dir", str(other), "env", "check", "--json"),
        ("env", "check", "--dir", str(other), "--json"),
    ):
        report = sophia(*args).json()
        assert report["directory"] == str(other.resolve()), args


def test_a_dir_that_is_not_a_folder_is_a_usage_error(sophia: Sophia, tmp_path: Path) -> None:
    result = sophia("--dir", str(tmp_path / "missing"), "db", "status")
    assert result.exit_code == 2
    assert "missing" in result.stderr
