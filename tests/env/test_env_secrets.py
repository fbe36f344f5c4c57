"""`sophia secrets` against a real headless keyring (encrypted file), and without a backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from env_helpers import KEYRING_PASSWORD, Sophia, WriteEnv

from sophia_cli.core.env.secrets import (
    get_secret,
    list_secrets,
    read_values,
    rotate_secret,
    set_secret,
)
from sophia_cli.core.errors import NotFoundError
from sophia_cli.core.settings import load_settings
from sophia_cli.store.keyring import Keyring, open_keyring

TOKEN = "xoxb-284736450192-5038271946302-Qm7ZpK2xV9rT4wL8nB3cY6dH"  # sophia: allow-secret


@pytest.fixture
def keyring(cryptfile_keyring: Path) -> Keyring:
    return open_keyring(load_settings())


def test_set_get_list_delete_through_the_cli(
    sophia: Sophia, cryptfile_keyring: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    assert sophia("secrets", "set", "SLACK_BOT_TOKEN").exit_code == 0
    masked = sophia("secrets", "get", "SLACK_BOT_TOKEN")
    assert masked.stdout.strip() == "xoxb-•••" and TOKEN not in masked.stdout
    assert sophia("secrets", "get", "SLACK_BOT_TOKEN", "--reveal").stdout.strip() == TOKEN
    listed = json.loads(sophia("secrets", "list", "--json").stdout)
    assert [item["name"] for item in listed] == ["SLACK_BOT_TOKEN"]
    assert TOKEN not in json.dumps(listed)
    assert sophia("secrets", "delete", "SLACK_BOT_TOKEN", "--yes").exit_code == 0
    missing = sophia("secrets", "get", "SLACK_BOT_TOKEN", "--json")
    assert missing.exit_code == 1 and json.loads(missing.stdout)["error"]["code"] == "not_found"


def test_the_keyring_file_is_encrypted_with_the_production_kdf(
    slow_kdf_cryptfile_keyring: Path,
) -> None:
    keyring = open_keyring(load_settings())
    set_secret(keyring, "SLACK_BOT_TOKEN", TOKEN)
    assert slow_kdf_cryptfile_keyring.is_file()
    assert TOKEN not in slow_kdf_cryptfile_keyring.read_text()
    # A fresh backend (as the `keyring` tool itself would open it) decrypts the entry.
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    fresh = CryptFileKeyring()
    fresh.file_path = str(slow_kdf_cryptfile_keyring)
    fresh.keyring_key = KEYRING_PASSWORD
    assert fresh.get_password("sophia", "SLACK_BOT_TOKEN") == TOKEN


def test_wrong_password_is_an_authentication_error(
    keyring: Keyring, sophia, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_secret(keyring, "SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SOPHIA_KEYRING_PASSWORD", "not the password")
    result = sophia("secrets", "list")
    assert result.exit_code == 1 and "does not unlock" in result.stderr


def test_cryptfile_without_password_explains_the_options(
    sophia: Sophia, cryptfile_keyring: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOPHIA_KEYRING_PASSWORD")
    result = sophia("secrets", "list")
    assert result.exit_code == 2 and "SOPHIA_KEYRING_PASSWORD" in result.stderr


def test_no_backend_is_one_clear_error_and_nothing_is_stored_in_plaintext(
    sophia: Sophia, no_keyring: None, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    result = sophia("secrets", "set", "SLACK_BOT_TOKEN", "--json")
    error = json.loads(result.stdout)["error"]
    assert result.exit_code == 2 and error["code"] == "keyring_unavailable"
    assert "environment variables" in error["hint"] and "cryptfile" in error["hint"]
    written = [p for p in isolated_env.rglob("*") if p.is_file()]
    assert all(TOKEN not in p.read_text(errors="ignore") for p in written)


def test_get_without_reveal_never_prints_the_value(keyring: Keyring, sophia) -> None:
    set_secret(keyring, "GONG_ACCESS_KEY", "Gk8Vd2Pq6Ws0Zr4Ty7Nb1Mc5")  # sophia: allow-secret
    result = sophia("secrets", "get", "GONG_ACCESS_KEY", "--json")
    assert json.loads(result.stdout) == {
        "name": "GONG_ACCESS_KEY",
        "value": "•••",
        "revealed": False,
    }


def test_rotate_keeps_the_previous_value_until_the_grace_period_ends(keyring: Keyring) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    set_secret(keyring, "JWT_SECRET", "old-" + "a1" * 40, now=now)
    rotation = rotate_secret(
        keyring, "JWT_SECRET", "new-" + "b2" * 40, grace=timedelta(hours=1), now=now
    )
    assert rotation.previous_name == "JWT_SECRET_PREVIOUS"
    assert get_secret(keyring, "JWT_SECRET", now=now) == "new-" + "b2" * 40
    assert (
        get_secret(keyring, "JWT_SECRET_PREVIOUS", now=now + timedelta(minutes=59))
        == "old-" + "a1" * 40
    )
    later = now + timedelta(hours=1, seconds=1)
    with pytest.raises(NotFoundError):
        get_secret(keyring, "JWT_SECRET_PREVIOUS", now=later)
    assert [i.name for i in list_secrets(keyring, now=later)] == ["JWT_SECRET"]


def test_rotate_cli_generates_a_strong_value(keyring: Keyring, sophia) -> None:
    set_secret(keyring, "JWT_SECRET", "old-" + "a1" * 40)
    result = sophia("secrets", "rotate", "JWT_SECRET", "--generate", "--grace", "2h", "--json")
    body = json.loads(result.stdout)
    assert body["had_previous_value"] is True
    assert len(get_secret(keyring, "JWT_SECRET")) >= 64
    assert get_secret(keyring, "JWT_SECRET_PREVIOUS") == "old-" + "a1" * 40


@pytest.mark.parametrize(
    "args", [["get", "lower-case"], ["rotate", "JWT_SECRET", "--grace", "soon"]]
)
def test_bad_input_is_a_usage_error(
    sophia: Sophia, cryptfile_keyring: Path, args: list[str]
) -> None:
    result = sophia("secrets", *args)
    assert result.exit_code == 2


def test_settings_read_unset_secrets_from_the_keyring(
    keyring: Keyring, project: Path, write_env: WriteEnv
) -> None:
    import os

    from sophia_cli.core.env.layers import load_layered_settings

    set_secret(keyring, "SLACK_BOT_TOKEN", TOKEN)
    set_secret(keyring, "HUBSPOT_API_KEY", "pat-na1-from-keyring")
    write_env(".env.master", "HUBSPOT_API_KEY=pat-na1-from-master-file\n")
    settings = load_layered_settings(project, None, os.environ)
    assert settings.secret_value("slack_bot_token") == TOKEN  # only the keyring has it
    assert settings.secret_value("hubspot_api_key") == "pat-na1-from-master-file"  # files win


def test_env_check_shows_the_keyring_layer_masked(keyring: Keyring, project: Path, sophia) -> None:
    set_secret(keyring, "SLACK_BOT_TOKEN", TOKEN)
    result = sophia("env", "check", "--json")
    variable = next(
        v for v in json.loads(result.stdout)["variables"] if v["name"] == "SLACK_BOT_TOKEN"
    )
    assert (variable["layer"], variable["value"]) == ("keyring", "xoxb-•••")
    assert TOKEN not in result.stdout


def test_read_values_skips_names_never_stored(keyring: Keyring) -> None:
    set_secret(keyring, "ASANA_PAT_TOKEN", "2/123/456:abc")
    assert read_values(keyring, ["ASANA_PAT_TOKEN", "GONG_ACCESS_KEY"]) == {
        "ASANA_PAT_TOKEN": "2/123/456:abc"
    }


def test_keyring_is_only_consulted_once_sophia_has_stored_a_secret(
    project: Path, no_keyring: None, isolated_env: Path
) -> None:
    from sophia_cli.core.env.check import check_environment

    assert "keyring-unavailable" not in [f.code for f in check_environment(project).findings]
    (isolated_env / "keyring-in-use").write_text("system\n")
    note = [f for f in check_environment(project).findings if f.code == "keyring-unavailable"]
    assert note and note[0].severity == "info"


def test_storing_a_secret_marks_the_keyring_in_use(keyring: Keyring, isolated_env: Path) -> None:
    assert not (isolated_env / "keyring-in-use").exists()
    set_secret(keyring, "ASANA_PAT_TOKEN", "2/123/456:abc")
    assert (isolated_env / "keyring-in-use").exists()
