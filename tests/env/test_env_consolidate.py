"""`sophia env consolidate`: one canonical file, planned first, written atomically."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values
from env_helpers import Sophia, WriteEnv

from sophia_cli.core.env.consolidate import plan_consolidation, quote
from sophia_cli.core.env_example import render_env_example
from sophia_cli.core.settings import Environment

TOKEN = "xoxb-284736450192-5038271946302-Qm7ZpK2xV9rT4wL8nB3cY6dH"  # sophia: allow-secret


@pytest.fixture
def layered(project: Path, write_env: WriteEnv) -> Path:
    write_env(".env.example", render_env_example())
    write_env(".env.production", f"SOPHIA_PORT=8100\nSLACK_BOT_TOKEN={TOKEN}\nEXTRA_THING=kept\n")
    write_env(".env.master", "SOPHIA_PORT=8200\nOPENROUTER_API_KEY=sk-or-v1-legacy123\n")
    return project


def test_plan_shows_a_masked_diff_and_writes_nothing(sophia: Sophia, layered: Path) -> None:
    before = (layered / ".env.production").read_text()
    result = sophia("env", "consolidate", "--env", "production")
    assert result.exit_code == 10
    assert "+SOPHIA_PORT=8200" in result.stdout and "SLACK_BOT_TOKEN=xoxb-•••" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert (layered / ".env.production").read_text() == before


def test_apply_writes_the_canonical_file_with_mode_600_and_a_backup(
    sophia: Sophia, layered: Path, isolated_env: Path
) -> None:
    before = (layered / ".env.production").read_text()
    result = sophia("env", "consolidate", "--env", "production", "--apply", "--yes", "--json")
    plan = json.loads(result.stdout)
    assert result.exit_code == 0 and plan["applied"] is True
    target = layered / ".env.production"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert Path(plan["backup"]).read_text() == before
    assert Path(plan["backup"]).is_relative_to(isolated_env)  # outside the repository
    assert stat.S_IMODE(Path(plan["backup"]).stat().st_mode) == 0o600
    values = dotenv_values(target)
    assert values["SOPHIA_PORT"] == "8200" and values["SLACK_BOT_TOKEN"] == TOKEN
    assert values["LITELLM_API_KEY"] == "sk-or-v1-legacy123" and "OPENROUTER_API_KEY" not in values
    assert values["EXTRA_THING"] == "kept"
    assert plan["renamed"] == {"OPENROUTER_API_KEY": "LITELLM_API_KEY"}


def test_canonical_file_is_grouped_by_section_and_commented(layered: Path) -> None:
    text = plan_consolidation(layered, Environment.PRODUCTION).text
    assert (
        text.index("# --- server ---")
        < text.index("# --- llm ---")
        < text.index("# --- sources ---")
    )
    assert "# Port the unified API listens on.\nSOPHIA_PORT=8200\n" in text
    assert text.rstrip().endswith("EXTRA_THING=kept")


def test_second_run_has_nothing_to_do(sophia: Sophia, layered: Path) -> None:
    sophia("env", "consolidate", "--env", "production", "--apply", "--yes")
    result = sophia("env", "consolidate", "--env", "production")
    assert result.exit_code == 0 and "already consolidated" in result.stderr


@pytest.mark.parametrize(
    "value", ["plain", "with space", 'quote " and \\ backslash', "multi\nline", "#hash", "a=b"]
)
def test_written_values_read_back_unchanged(value: str) -> None:
    assert dotenv_values(stream=io.StringIO(f"K={quote(value)}\n"))["K"] == value


def test_write_example_writes_exactly_the_model_template(sophia: Sophia, project: Path) -> None:
    (project / ".env.example").write_text("OLD=1\n")
    assert sophia("env", "consolidate", "--write-example").exit_code == 10
    assert sophia("env", "consolidate", "--write-example", "--apply", "--yes").exit_code == 0
    assert (project / ".env.example").read_text() == render_env_example()


def test_to_keyring_moves_secrets_and_leaves_references(
    sophia: Sophia, layered: Path, cryptfile_keyring: Path
) -> None:
    result = sophia(
        "env", "consolidate", "--env", "production", "--to-keyring", "--apply", "--yes", "--json"
    )
    assert result.exit_code == 0
    assert set(json.loads(result.stdout)["to_keyring"]) == {"SLACK_BOT_TOKEN", "LITELLM_API_KEY"}
    text = (layered / ".env.production").read_text()
    assert TOKEN not in text and "SLACK_BOT_TOKEN=keyring://sophia/SLACK_BOT_TOKEN" in text
    assert sophia("secrets", "get", "SLACK_BOT_TOKEN", "--reveal").stdout.strip() == TOKEN
    # The settings still see the real value, through the reference.
    check = json.loads(sophia("env", "check", "--env", "production", "--json").stdout)
    slack = next(v for v in check["variables"] if v["name"] == "SLACK_BOT_TOKEN")
    assert slack["value"] == "xoxb-•••" and slack["layer"] == ".env.production → keyring"


def test_to_keyring_without_a_keyring_fails_and_writes_nothing(
    sophia: Sophia, layered: Path, no_keyring: None
) -> None:
    before = (layered / ".env.production").read_text()
    result = sophia("env", "consolidate", "--env", "production", "--to-keyring", "--apply", "--yes")
    assert result.exit_code == 2 and "keyring" in result.stderr
    assert (layered / ".env.production").read_text() == before


def test_write_example_with_out_is_a_usage_error(sophia: Sophia, project: Path) -> None:
    assert sophia("env", "consolidate", "--write-example", "--out", "x.env").exit_code == 2


def test_diff_masks_every_line_of_a_multi_line_secret(
    sophia: Sophia, project: Path, write_env: WriteEnv
) -> None:
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nQm7ZpK2xV9rT4wL8nB3cY6dHWq3Xz7Yv"
    write_env(".env.development", f'JWT_SECRET="{body}"\nSOPHIA_PORT=8100\n')
    result = sophia("env", "consolidate")
    assert result.exit_code == 10
    for line in body.splitlines():
        assert line not in result.stdout
    assert "SOPHIA_PORT=8100" in result.stdout


class _Terminal(io.StringIO):
    """Keyboard input for a confirmation prompt."""

    def isatty(self) -> bool:
        return True


def test_to_keyring_replaces_the_plaintext_left_in_other_env_files(
    sophia: Sophia, layered: Path, write_env: WriteEnv, cryptfile_keyring: Path
) -> None:
    write_env(".env.master", f"SOPHIA_PORT=8200\nSLACK_BOT_TOKEN={TOKEN}\n")
    result = sophia(
        "env", "consolidate", "--env", "production", "--to-keyring", "--apply", "--yes", "--json"
    )
    assert result.exit_code == 0, result.stderr
    assert result.json()["scrubbed"] == [str(layered / ".env.master")]
    master = (layered / ".env.master").read_text()
    assert TOKEN not in master
    assert "SLACK_BOT_TOKEN=keyring://sophia/SLACK_BOT_TOKEN" in master
    assert "SOPHIA_PORT=8200" in master
    assert stat.S_IMODE((layered / ".env.master").stat().st_mode) == 0o600


def test_to_keyring_keeps_no_plaintext_in_its_backups(
    sophia: Sophia, layered: Path, cryptfile_keyring: Path, isolated_env: Path
) -> None:
    sophia("env", "consolidate", "--env", "production", "--to-keyring", "--apply", "--yes")
    backups = list((isolated_env / "env-backups").iterdir())
    assert backups
    assert all(TOKEN not in backup.read_text() for backup in backups)


def test_apply_without_yes_and_no_terminal_refuses_and_writes_nothing(
    sophia: Sophia, layered: Path
) -> None:
    before = (layered / ".env.production").read_text()
    result = sophia("env", "consolidate", "--env", "production", "--apply")
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert (layered / ".env.production").read_text() == before


def test_apply_asks_first_and_a_no_writes_nothing(
    sophia: Sophia, layered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (layered / ".env.production").read_text()
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    result = sophia("env", "consolidate", "--env", "production", "--apply")
    assert result.exit_code == 1
    assert "Write" in result.stderr
    assert (layered / ".env.production").read_text() == before


def test_apply_asks_first_and_a_yes_writes(
    sophia: Sophia, layered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    result = sophia("env", "consolidate", "--env", "production", "--apply")
    assert result.exit_code == 0, result.stderr
    assert "SOPHIA_PORT=8200" in (layered / ".env.production").read_text()
