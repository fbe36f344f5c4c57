"""The squads file: built-in default, user file, malformed files with line and reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sophia_cli.core.errors import ConfigError, NotFoundError
from sophia_cli.core.settings import load_settings
from sophia_cli.core.squad import catalog, pricing
from sophia_cli.core.squad.config import load_squads, squad_order
from sophia_cli.core.squad.models import Deployment


def test_builtin_file_has_primary_litellm_and_secondary_aimlapi() -> None:
    config = load_squads(load_settings())
    assert config.source.endswith("squads.yaml")
    assert config.squads["litellm"].primary
    assert {d.api_key_env for d in config.squads["litellm"].deployments} == {
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
    }
    assert {d.api_key_env for d in config.squads["aimlapi"].deployments} == {"AIMLAPI_API_KEY"}
    assert squad_order(load_settings(), config, None) == ["litellm", "aimlapi"]


def test_builtin_deployments_all_have_prices() -> None:
    rows = catalog.list_deployments(load_settings())
    assert rows and all(row.input_cost_per_mtok is not None for row in rows)
    assert all(not row.configured for row in rows)  # no keys in the test environment


def test_prices_come_from_litellm_map_unless_config_sets_them() -> None:
    from_map = pricing.price_for(Deployment(name="m", model="openai/gpt-4o-mini"))
    assert from_map is not None and from_map.source == "litellm"
    assert (from_map.input_per_mtok, from_map.output_per_mtok) == pytest.approx((0.15, 0.60))
    explicit = pricing.price_for(
        Deployment(
            name="m", model="openai/gpt-4o-mini", input_cost_per_mtok=9, output_cost_per_mtok=8
        )
    )
    assert explicit is not None and (explicit.input_per_mtok, explicit.source) == (9, "config")


def test_unknown_model_without_config_price_has_no_price() -> None:
    assert pricing.price_for(Deployment(name="x", model="openai/no-such-model-zz")) is None


def test_yaml_syntax_error_reports_line(write_squads: Callable[[dict[str, Any]], Path]) -> None:
    path = write_squads({})
    path.write_text("squads:\n  litellm:\n    deployments: [\n      - name: x\n")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+: "):
        load_squads(load_settings())


def test_wrong_type_reports_line_and_field(write_squads: Callable[[dict[str, Any]], Path]) -> None:
    path = write_squads({})
    path.write_text(
        "squads:\n"
        "  litellm:\n"
        "    deployments:\n"
        "      - name: mini\n"
        "        model: openai/gpt-4o-mini\n"
        "        context_window: lots\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_squads(load_settings())
    assert caught.value.message.startswith(
        f"{path}:6: squads.litellm.deployments[0].context_window:"
    )
    assert "valid integer" in caught.value.message


def test_unknown_capability_reports_its_line(
    write_squads: Callable[[dict[str, Any]], Path],
) -> None:
    path = write_squads({})
    path.write_text(
        "squads:\n  litellm:\n    deployments:\n      - name: a\n        model: openai/a\n"
        "        capabilities:\n          - chat\n          - telepathy\n"
    )
    with pytest.raises(
        ConfigError, match=rf"{path}:8: squads.litellm.deployments\[0\].capabilities\[1\]"
    ):
        load_squads(load_settings())


def test_missing_field_and_unknown_key_are_errors(
    write_squads: Callable[[dict[str, Any]], Path],
) -> None:
    write_squads({"squads": {"litellm": {"deployments": [{"name": "a"}]}}})
    with pytest.raises(ConfigError, match=r"deployments\[0\].model: Field required"):
        load_squads(load_settings())
    write_squads(
        {"squads": {"litellm": {"deployments": [{"name": "a", "model": "m", "colour": 1}]}}}
    )
    with pytest.raises(ConfigError, match=r"colour: Extra inputs are not permitted"):
        load_squads(load_settings())


def test_file_that_is_not_a_mapping_is_an_error(
    write_squads: Callable[[dict[str, Any]], Path],
) -> None:
    path = write_squads({})
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match=":1: expected a mapping"):
        load_squads(load_settings())


def test_missing_file_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOPHIA_SQUADS_FILE", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="cannot be read"):
        load_squads(load_settings())


def test_openrouter_squad_loads_deprecated_with_a_warning(
    write_squads: Callable[[dict[str, Any]], Path],
) -> None:
    write_squads(
        {
            "squads": {
                "litellm": {
                    "primary": True,
                    "deployments": [{"name": "a", "model": "openai/gpt-4o-mini"}],
                },
                "openrouter": {
                    "deployments": [
                        {
                            "name": "r",
                            "model": "openrouter/openai/gpt-4o",
                            "api_key_env": "OPENROUTER_API_KEY",
                        }
                    ]
                },
            }
        }
    )
    config = load_squads(load_settings())
    assert config.squads["openrouter"].deprecated and not config.squads["litellm"].deprecated
    assert [w for w in config.warnings if "`openrouter`" in w and "deprecated" in w]
    # Deprecated squads are not routed to unless asked for by name.
    assert squad_order(load_settings(), config, None) == ["litellm"]
    assert squad_order(load_settings(), config, "openrouter") == ["openrouter"]


def test_unknown_primary_squad_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIMARY_SQUAD", "nope")
    settings = load_settings()
    with pytest.raises(NotFoundError, match="PRIMARY_SQUAD `nope`"):
        squad_order(settings, load_squads(settings), None)
