"""The settings model: types, placeholders, production requirements, `.env.example`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from sophia_cli.core.env_example import render_env_example
from sophia_cli.core.errors import ConfigError
from sophia_cli.core.setting_specs import deprecated_names, missing_in_production, setting_specs
from sophia_cli.core.settings import Environment, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
SEED_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "JWT_SECRET",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "LITELLM_API_KEY",
    "SLACK_BOT_TOKEN",
    "ASANA_PAT_TOKEN",
    "HUBSPOT_API_KEY",
    "GONG_ACCESS_KEY",
    "GONG_ACCESS_KEY_SECRET",
    "AIMLAPI_API_KEY",
    "PORTKEY_API_KEY",
    "MILVUS_URI",
    "SOPHIA_ENV",
    "SOPHIA_HOME",
}


def test_model_holds_every_seed_variable() -> None:
    names = {spec.env_name for spec in setting_specs()}
    assert SEED_VARIABLES <= names


def test_every_api_key_and_token_is_a_secret_str() -> None:
    for spec in setting_specs():
        if spec.env_name.endswith(("_KEY", "_TOKEN", "_SECRET")):
            assert spec.secret, spec.env_name
            assert Settings.model_fields[spec.field_name].annotation == SecretStr | None


def test_every_setting_is_documented() -> None:
    for spec in setting_specs():
        assert spec.description and spec.example, spec.env_name


def test_env_example_matches_the_model() -> None:
    committed = (REPO / ".env.example").read_text(encoding="utf-8")
    assert committed == render_env_example(), (
        "`.env.example` drifted from core/settings.py; regenerate it with "
        "`sophia env consolidate --write-example` or render_env_example()"
    )


def test_env_example_uses_placeholders_for_secrets() -> None:
    lines = dict(
        line.split("=", 1)
        for line in render_env_example().splitlines()
        if line and not line.startswith("#")
    )
    assert lines["JWT_SECRET"] == "CHANGEME"
    assert lines["SLACK_BOT_TOKEN"] == "CHANGEME"
    assert lines["SOPHIA_ENV"] == "development"


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.sophia_env is Environment.DEVELOPMENT
    assert settings.database_url is None
    assert settings.squad_daily_budget_usd == 100.0


def test_placeholder_value_loads_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "CHANGEME")
    assert load_settings().database_url is None


def test_wrong_type_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SQUAD_DAILY_BUDGET_USD", "lots")
    with pytest.raises(ConfigError, match="SQUAD_DAILY_BUDGET_USD"):
        load_settings()


def test_wrong_type_of_a_secret_does_not_echo_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOPHIA_ENV", "staging")
    with pytest.raises(ConfigError, match="SOPHIA_ENV"):
        load_settings()


def test_secret_values_never_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-verysecretvalue")
    settings = load_settings()
    assert "verysecretvalue" not in repr(settings)
    assert settings.secret_value("openai_api_key") == "sk-proj-verysecretvalue"


def test_env_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("PRIMARY_SQUAD=aimlapi\nSQUAD_CACHE_TTL_S=60\n")
    monkeypatch.setenv("SQUAD_CACHE_TTL_S", "120")
    settings = load_settings([env_file])
    assert settings.primary_squad == "aimlapi"
    assert settings.squad_cache_ttl_s == 120


def test_production_lists_every_missing_required_variable() -> None:
    settings = load_settings(sophia_env="production")
    missing = {spec.env_name for spec in missing_in_production(settings)}
    assert {"DATABASE_URL", "REDIS_URL", "JWT_SECRET", "SLACK_BOT_TOKEN"} <= missing


def test_openrouter_names_are_deprecated_with_a_replacement() -> None:
    assert deprecated_names()["OPENROUTER_API_KEY"] == "LITELLM_API_KEY"


def test_sophia_home_defaults_to_a_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOPHIA_HOME")
    assert load_settings().home.name == "sophia"
