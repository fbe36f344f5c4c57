"""Ports in templates, file positions, taken target ports, files the globs leave out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from sophia_cli.core.migrate.ports import find_port_uses
from sophia_cli.core.migrate.run import compute_plan, ports_plan

Tree = Callable[[dict[str, bytes | str]], Path]


@pytest.mark.parametrize(
    "line",
    [
        'url = f"http://{host}:8003/health"',
        'url = f"http://{settings.api_host}:8003"',
        'url = "http://{}:8003/".format(host)',
        "url: http://{{ api_host }}:8003/",
        'URL="http://${API_HOST}:8003/v1"',
        "curl http://$HOST:8003/health",
        "url = 'http://%(host)s:8003/' % params",
        'host: "${FRONTEND_ADDRESS:host.docker.internal:8003}"',
    ],
)
def test_a_templated_host_before_the_port_is_a_port(line: str) -> None:
    assert [(s.verdict, s.reason) for s in find_port_uses(line, 8003)] == [("port", "host:port")]


@pytest.mark.parametrize(
    "line",
    [
        "see app/main.py:8003 for the handler",
        "src/client.ts:8003:17 - error TS2339",
        'File "/srv/app/views.py", line 8003, in render',
        "the bug is at line 8003",
        "templates/base.html:8003",
    ],
)
def test_a_file_position_is_not_a_port(line: str) -> None:
    assert list(find_port_uses(line, 8003)) == []


def test_a_file_position_whose_extension_is_also_a_domain_needs_review() -> None:
    spots = list(find_port_uses("see README.md:8003 or api.example.md:8003", 8003))
    assert [s.verdict for s in spots] == ["review", "review"]


def test_a_target_port_already_used_in_the_compose_file_is_warned(make_tree: Tree) -> None:
    compose = (
        'services:\n  api:\n    ports:\n      - "8000:8000"\n'
        '  bridge:\n    ports:\n      - "8003:8003"\n'
    )
    preview = compute_plan(ports_plan(8003, 8000), make_tree({"docker-compose.yml": compose}))
    assert [(w.path, w.line) for w in preview.warnings] == [("docker-compose.yml", 4)]
    assert "8000" in preview.warnings[0].message


def test_no_warning_when_the_target_port_is_free_in_that_file(make_tree: Tree) -> None:
    root = make_tree({"a.env": "API_PORT=8003\n", "b.env": "OTHER_PORT=8000\n"})
    assert compute_plan(ports_plan(8003, 8000), root).warnings == []


def _outside_tree(make_tree: Tree) -> Path:
    return make_tree(
        {
            "app.py": "PORT = 8003\n",
            "Makefile": "run:\n\tuvicorn app:app --port 8003\n",
            "docs/index.rst": "Open http://localhost:8003/ in a browser.\n",
            "deploy/api.service": "ExecStart=/srv/run --port 8003\n",
            "web/client.ts": "const api = 'http://localhost:8003';\n",
            "docs/CHANGELOG.md": "- Moved the API to :8003.\n",
            "notes.txt": "nothing about that port\n",
        }
    )


def test_files_outside_the_globs_holding_the_port_are_listed(make_tree: Tree) -> None:
    preview = compute_plan(ports_plan(8003, 8000), _outside_tree(make_tree))
    listed = {(n.path, n.reason) for n in preview.not_scanned}
    assert listed == {
        ("Makefile", "outside the globs"),
        ("docs/index.rst", "outside the globs"),
        ("deploy/api.service", "outside the globs"),
        ("web/client.ts", "outside the globs"),
        ("docs/CHANGELOG.md", "history file"),
    }
    assert [c.path for c in preview.changes] == ["app.py"]


def test_include_adds_files_and_history_only_when_named(make_tree: Tree) -> None:
    root = _outside_tree(make_tree)
    preview = compute_plan(
        ports_plan(8003, 8000), root, include=("**/*.rst", "Makefile", "docs/CHANGELOG.md")
    )
    changed = {c.path for c in preview.changes}
    assert changed == {"app.py", "Makefile", "docs/index.rst", "docs/CHANGELOG.md"}
    assert {n.path for n in preview.not_scanned} == {"deploy/api.service", "web/client.ts"}


def test_a_wildcard_include_never_reaches_history(make_tree: Tree) -> None:
    root = _outside_tree(make_tree)
    preview = compute_plan(ports_plan(8003, 8000), root, include=("**/*.md", "**/*.rst"))
    assert "docs/CHANGELOG.md" not in {c.path for c in preview.changes}
    assert ("docs/CHANGELOG.md", "history file") in {
        (n.path, n.reason) for n in preview.not_scanned
    }


def test_the_cli_says_what_it_did_not_scan(make_tree: Tree, sophia) -> None:  # type: ignore[no-untyped-def]
    root = _outside_tree(make_tree)
    result = sophia("migrate", "ports", str(root), "--no-diff")
    assert "not scanned: 5 file(s)" in result.stderr and "--include" in result.stderr
    data = json.loads(sophia("migrate", "ports", str(root), "--json").stdout)
    assert len(data["not_scanned"]) == 5


def test_a_one_line_json_of_many_numbers_is_judged_number_by_number() -> None:
    items = [{"id": i, "url": f"http://h{i}:8003/x", "n": 8003} for i in range(2000)]
    spots = list(find_port_uses(json.dumps(items), 8003))
    assert sum(s.verdict == "port" for s in spots) == 2000
    assert sum(s.verdict == "review" for s in spots) == 2000


def test_diffs_and_review_lines_never_show_a_secret(make_tree: Tree, sophia) -> None:  # type: ignore[no-untyped-def]
    password = "Qx7" + "vLm2Rt9Kp4"  # built here: no literal credential in the repository
    root = make_tree(
        {
            "svc.env": f"DATABASE_URL=postgres://app:{password}@db.internal:8003/bi\n"
            f"CACHE_URL=redis://:{password}@cache:6379/0  # 8003 requests a day\n"
        }
    )
    result = sophia("migrate", "ports", str(root))
    assert "db.internal:8000" in result.stdout
    assert password not in result.stdout + result.stderr
    data = sophia("migrate", "ports", str(root), "--json").stdout
    assert json.loads(data)["review"] and password not in data
