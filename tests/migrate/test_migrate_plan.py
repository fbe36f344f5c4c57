"""Plan files: typed steps, presets, and errors that name the line at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from sophia_cli.core.errors import InputError, NotFoundError
from sophia_cli.core.migrate.plan import (
    MoveStep,
    ReplacePortStep,
    load_plan,
    parse_plan,
    preset_names,
)


def test_the_three_presets_ship_and_load() -> None:
    assert preset_names() == ["consolidate", "openrouter-to-litellm", "ports"]
    for name in preset_names():
        assert load_plan(name).steps


def test_a_plan_file_is_loaded_with_typed_steps(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(
        "name: mine\nsteps:\n  - kind: replace_port\n    from: 8003\n    to: 8000\n"
        "  - move: {from: a.py, to: b/a.py}\n"
    )
    plan = load_plan(str(path))
    assert plan.steps == (
        ReplacePortStep.model_validate({"from": 8003, "to": 8000}),
        MoveStep.model_validate({"from": "a.py", "to": "b/a.py"}),
    )


def test_a_wrong_type_is_reported_with_its_line() -> None:
    text = "name: x\nsteps:\n  - kind: replace_port\n    from: 8003\n    to: eight\n"
    with pytest.raises(InputError, match=r"plan.yaml:5: steps\.0\.to"):
        parse_plan(text, source="plan.yaml")


def test_an_unknown_step_kind_is_reported_with_its_line() -> None:
    text = "name: x\nsteps:\n  - kind: replace_port\n    from: 1\n    to: 2\n  - kind: nuke\n"
    with pytest.raises(InputError, match=r"p:6: steps\.1"):
        parse_plan(text, source="p")


def test_an_unknown_field_is_reported_with_its_line() -> None:
    text = "name: x\nsteps:\n  - kind: delete\n    path: a.py\n    recursive: true\n"
    with pytest.raises(InputError, match=r"p:5: steps\.0\.recursive"):
        parse_plan(text, source="p")


def test_malformed_yaml_is_reported_with_its_line() -> None:
    with pytest.raises(InputError, match=r"p:3: not valid YAML"):
        parse_plan("name: x\nsteps:\n  - kind: a: b\n", source="p")


def test_an_invalid_regex_is_refused() -> None:
    text = "name: x\nsteps:\n  - kind: replace_text\n    pattern: '(['\n    replacement: y\n"
    text += "    regex: true\n"
    with pytest.raises(InputError, match="regular expression"):
        parse_plan(text, source="p")


def test_a_bad_env_name_and_an_out_of_range_port_are_refused() -> None:
    with pytest.raises(InputError, match="not an environment variable name"):
        parse_plan("name: x\nsteps:\n  - {kind: rename_env, old: 'A B', new: C}\n")
    with pytest.raises(InputError, match="steps.0.to"):
        parse_plan("name: x\nsteps:\n  - {kind: replace_port, from: 8003, to: 70000}\n")


def test_an_empty_plan_is_refused() -> None:
    with pytest.raises(InputError, match="empty"):
        parse_plan("")
    with pytest.raises(InputError, match="steps"):
        parse_plan("name: x\nsteps: []\n")


def test_an_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError) as caught:
        load_plan("nope")
    assert "consolidate" in caught.value.hint
