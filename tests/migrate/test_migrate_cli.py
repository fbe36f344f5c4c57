"""`sophia migrate` commands: exit codes, confirmation, JSON, errors, scan, history."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Tree = Callable[[dict[str, bytes | str]], Path]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_dry_run_exits_10_when_changes_are_pending_and_0_when_none(make_tree: Tree, sophia) -> None:  # type: ignore[no-untyped-def]
    root = make_tree({"a.env": "PORT=8003\n"})
    pending = sophia("migrate", "ports", str(root))
    assert pending.exit_code == 10
    assert "-PORT=8003" in pending.stdout and "+PORT=8000" in pending.stdout
    done = sophia("migrate", "ports", str(root), "--from", "8001", "--to", "8000")
    assert done.exit_code == 0


def test_ports_default_to_8003_then_8000_and_refuse_the_same_port_twice(
    make_tree: Tree,
    sophia,  # type: ignore[no-untyped-def]
) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    assert json.loads(sophia("migrate", "ports", str(root), "--json").stdout)["plan"] == (
        "ports-8003-to-8000"
    )
    same = sophia("migrate", "ports", str(root), "--from", "8000", "--to", "8000")
    assert same.exit_code == 2 and "both 8000" in same.stderr


def test_apply_without_a_terminal_proceeds_without_asking(make_tree: Tree, sophia) -> None:  # type: ignore[no-untyped-def]
    root = make_tree({"a.env": "PORT=8003\n"})
    result = sophia("migrate", "ports", str(root), "--apply")
    assert result.exit_code == 0
    assert "applied migration" in result.stderr
    assert (root / "a.env").read_text() == "PORT=8000\n"


def test_apply_on_a_terminal_asks_and_a_no_writes_nothing(
    make_tree: Tree,
    sophia,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    result = sophia("migrate", "ports", str(root), "--apply")
    assert result.exit_code == 1 and "Apply 1 change(s)" in result.stderr
    assert (root / "a.env").read_text() == "PORT=8003\n"
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert sophia("migrate", "ports", str(root), "--apply").exit_code == 0
    assert (root / "a.env").read_text() == "PORT=8000\n"


def test_yes_skips_the_question_on_a_terminal(
    make_tree: Tree,
    sophia,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    monkeypatch.setattr("sys.stdin", _Terminal(""))
    assert sophia("migrate", "ports", str(root), "--apply", "--yes").exit_code == 0


def test_apply_json_then_history_and_rollback_json(make_tree: Tree, sophia) -> None:  # type: ignore[no-untyped-def]
    root = make_tree({"a.env": "PORT=8003\n"})
    applied = json.loads(sophia("migrate", "ports", str(root), "--apply", "--json").stdout)
    listed = json.loads(sophia("migrate", "history", "--path", str(root), "--json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [(applied["id"], "applied")]
    undone = sophia("migrate", "rollback", applied["id"], "--path", str(root), "--json")
    assert json.loads(undone.stdout)["restored"] == ["a.env"]
    again = sophia("migrate", "rollback", applied["id"], "--path", str(root), "--json")
    assert again.exit_code == 1
    assert json.loads(again.stdout)["error"]["code"] == "conflict"


def test_run_with_a_refused_delete_exits_10_and_names_the_importers(
    make_tree: Tree, sophia
) -> None:  # type: ignore[no-untyped-def]
    root = make_tree(
        {"app/api/health_legacy.py": "x = 1\n", "app/main.py": "import app.api.health_legacy\n"}
    )
    result = sophia("migrate", "run", "consolidate", str(root))
    assert result.exit_code == 10
    assert "refused delete app/api/health_legacy.py" in result.stderr
    assert "app/main.py" in result.stderr


def test_an_unknown_plan_is_one_clear_error(sophia, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = sophia("migrate", "run", "no-such-plan", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("error: no plan file or preset")
    assert "Traceback" not in result.stderr


def test_a_malformed_plan_file_names_its_line(sophia, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = tmp_path / "bad.yaml"
    plan.write_text("name: x\nsteps:\n  - kind: replace_port\n    from: 8003\n    to: [1]\n")
    result = sophia("migrate", "run", str(plan), str(tmp_path), "--json")
    assert result.exit_code == 2
    assert "bad.yaml:5: steps.0.to" in json.loads(result.stdout)["error"]["message"]


def test_a_missing_tree_is_not_found(sophia, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = sophia("migrate", "ports", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "is not a folder" in result.stderr


def test_presets_are_listed(sophia) -> None:  # type: ignore[no-untyped-def]
    names = [p["name"] for p in json.loads(sophia("migrate", "presets", "--json").stdout)]
    assert names == ["consolidate", "openrouter-to-litellm", "ports"]


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server.getsockname()[1]
    server.close()


def test_scan_lists_ports_with_places_conflicts_and_listeners(
    make_tree: Tree,
    sophia,
    listener: int,  # type: ignore[no-untyped-def]
) -> None:
    root = make_tree(
        {
            "docker-compose.yml": 'services:\n  api:\n    ports:\n      - "8003:8000"\n'
            '  bridge:\n    ports:\n      - "8003:8003"\n',
            "app.env": f"API_URL=http://localhost:{listener}\nVERSION=1.8003\n",
        }
    )
    data = json.loads(sophia("migrate", "ports", "--scan", str(root), "--json").stdout)
    by_port = {p["port"]: p for p in data["ports"]}
    assert by_port[8003]["conflict"] is True
    assert by_port[8003]["claimed_by"] == ["service api", "service bridge"]
    assert by_port[listener]["listening"] is True
    assert {(u["path"], u["line"]) for u in data["uses"] if u["port"] == listener} == {
        ("app.env", 1)
    }
    assert not (root / ".sophia").exists()


def test_scan_prints_file_and_line(make_tree: Tree, sophia) -> None:  # type: ignore[no-untyped-def]
    root = make_tree({"a.yaml": "x: 1\nport: 5432\n"})
    result = sophia("migrate", "ports", "--scan", str(root))
    assert result.exit_code == 0 and "a.yaml:2" in result.stdout


def test_the_migrate_help_teaches_each_command(sophia) -> None:  # type: ignore[no-untyped-def]
    for command in ("ports", "run", "rollback", "history", "presets"):
        result = sophia("migrate", command, "--help")
        assert result.exit_code == 0 and "Example:" in result.stdout


def test_scan_flags_two_variables_of_one_env_file_on_the_same_port(
    make_tree: Tree,
    sophia,  # type: ignore[no-untyped-def]
) -> None:
    root = make_tree(
        {
            "a.env": "API_PORT=8100\nWORKER_PORT=8100\nOTHER_PORT=8200\n",
            "b.env": "OTHER_PORT=8200\n",
        }
    )
    data = json.loads(sophia("migrate", "ports", "--scan", str(root), "--json").stdout)
    by_port = {p["port"]: p for p in data["ports"]}
    assert by_port[8100]["conflict"] is True
    assert by_port[8200]["conflict"] is False


def test_rollback_on_a_terminal_asks_first(
    make_tree: Tree,
    sophia,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    assert sophia("migrate", "ports", str(root), "--apply", "--yes").exit_code == 0
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    refused = sophia("migrate", "rollback", "--path", str(root))
    assert refused.exit_code == 1 and (root / "a.env").read_text() == "PORT=8000\n"
    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    assert sophia("migrate", "rollback", "--path", str(root)).exit_code == 0
    assert (root / "a.env").read_text() == "PORT=8003\n"
