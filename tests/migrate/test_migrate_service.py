"""Moves and deletes on a seed-like service: every module still imports afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from migrate_helpers import broken_modules, python_modules, run_python

from sophia_cli.core.migrate.run import apply_verified, compute_plan, parse_plan

_MOVE = "name: t\nsteps:\n  - {kind: move, from: config/manager.py, to: config/legacy/manager.py}\n"
_DELETE = "name: t\nsteps:\n  - {kind: delete, path: app/api/health_legacy.py}\n"


def _move(root: Path) -> None:
    applied = apply_verified(compute_plan(parse_plan(_MOVE), root))
    assert applied.id and applied.broken == []


def test_the_service_imports_before_any_migration(service: Path) -> None:
    assert len(python_modules(service)) >= 14
    assert broken_modules(service) == {}


def test_moving_the_config_manager_keeps_every_module_importing(service: Path) -> None:
    _move(service)
    assert not (service / "config/manager.py").exists()
    assert broken_modules(service) == {}


def test_move_rewrites_relative_imports_into_the_moved_module(service: Path) -> None:
    _move(service)
    assert (
        "from . import defaults\nfrom .legacy import manager\n"
        in (service / "config/__init__.py").read_text()
    )


def test_move_rewrites_the_moved_modules_own_relative_imports(service: Path) -> None:
    _move(service)
    text = (service / "config/legacy/manager.py").read_text()
    assert "from .. import defaults\nfrom ..defaults import DEFAULTS\n" in text


def test_move_splits_a_from_package_import_of_two_modules(service: Path) -> None:
    _move(service)
    text = (service / "app/core/unified_config.py").read_text()
    assert "from config import defaults  # noqa: I001 (the order people write)\n" in text
    assert "from config.legacy import manager\n" in text


def test_move_rewrites_an_import_bound_attribute_chain(service: Path) -> None:
    _move(service)
    text = (service / "app/main.py").read_text()
    assert "import config.legacy.manager\n" in text
    assert "return config.legacy.manager.start()" in text


def test_move_leaves_a_runtime_attribute_chain_alone(service: Path) -> None:
    before = (service / "app/core/runtime.py").read_bytes()
    _move(service)
    assert (service / "app/core/runtime.py").read_bytes() == before
    done = run_python(service, "import app.core.runtime as r; print(r.boot())")
    assert done.stdout == "runtime\n"


def test_move_rewrites_mock_patch_and_importlib_strings_that_still_resolve(service: Path) -> None:
    _move(service)
    text = (service / "app/workers/jobs.py").read_text()
    assert 'mock.patch("config.legacy.manager.start"' in text
    assert 'import_module("config.legacy.manager")' in text
    done = run_python(
        service,
        "from app.workers import jobs; print(jobs.dry_refresh()['dry'], "
        "jobs.manager_module().__name__)",
    )
    assert done.stdout == "True config.legacy.manager\n", done.stderr


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("pyproject.toml", 'platform-config = "config.legacy.manager:main"'),
        ("setup.cfg", "legacy-config = config.legacy.manager:main"),
        ("Procfile", "release: python -m config.legacy.manager --check"),
        ("Dockerfile", 'CMD ["python", "-m", "config.legacy.manager"]'),
        ("scripts/check.sh", 'echo "config/legacy/manager.py is fine"'),
        ("deploy/README.md", "`python -m config.legacy.manager --check`"),
    ],
)
def test_move_rewrites_entry_points_and_commands(service: Path, path: str, expected: str) -> None:
    _move(service)
    assert expected in (service / path).read_text()


def test_the_plan_lists_every_rename_it_makes(service: Path) -> None:
    preview = compute_plan(parse_plan(_MOVE), service)
    listed = {r.path for r in preview.rewrites}
    assert {"app/main.py", "app/workers/jobs.py", "config/__init__.py", "Procfile"} <= listed
    assert all(r.line >= 1 for r in preview.rewrites)


def test_the_plan_imports_each_touched_module_before_and_after(service: Path) -> None:
    applied = apply_verified(compute_plan(parse_plan(_MOVE), service))
    checked = {c.module: (c.before, c.after) for c in applied.verification}
    assert checked["config.legacy.manager"] == (True, True)
    assert checked["app.workers.jobs"] == (True, True)
    assert "app.core.runtime" not in checked


def test_verification_names_a_module_the_move_could_not_fix(service: Path) -> None:
    dynamic = 'import importlib\n\nMOD = importlib.import_module("config." + "manager")\n'
    (service / "app/dynamic.py").write_text(dynamic + "from config import manager\n")
    applied = apply_verified(compute_plan(parse_plan(_MOVE), service))
    assert [c.module for c in applied.broken] == ["app.dynamic"]
    assert "config.manager" in (applied.broken[0].error or "")


def test_a_module_failing_before_the_move_is_not_blamed_on_it(service: Path) -> None:
    (service / "app/needs_dep.py").write_text("import not_installed_pkg\nimport config.manager\n")
    applied = apply_verified(compute_plan(parse_plan(_MOVE), service))
    check = next(c for c in applied.verification if c.module == "app.needs_dep")
    assert (check.before, check.after, check.broken) == (False, False, False)


def _delete_refusal(root: Path) -> list[str]:
    preview = compute_plan(parse_plan(_DELETE), root)
    return preview.refusals[0].referenced_by if preview.refusals else []


def _drop_references(root: Path, keep: str) -> None:
    """Remove every reference to health_legacy except the one in `keep`."""
    edits = {
        "app/api/routes.py": ("from app.api import health\n\nROUTES = {'/health': health.check}\n"),
        "docker-compose.yml": "services:\n  api:\n    build: .\n",
        "Procfile": "web: uvicorn app.main:app --port 8003\n",
        "deploy/README.md": "# Deploying\n",
    }
    for rel, text in edits.items():
        if rel != keep:
            (root / rel).write_text(text)


def test_delete_is_refused_listing_every_kind_of_reference(service: Path) -> None:
    assert _delete_refusal(service) == [
        "Procfile",
        "app/api/routes.py",
        "deploy/README.md",
        "docker-compose.yml",
    ]


@pytest.mark.parametrize(
    "only", ["app/api/routes.py", "docker-compose.yml", "Procfile", "deploy/README.md"]
)
def test_delete_is_refused_by_a_single_remaining_reference(service: Path, only: str) -> None:
    _drop_references(service, keep=only)
    assert _delete_refusal(service) == [only]


def test_delete_is_refused_by_a_ci_file_and_an_aliased_relative_import(service: Path) -> None:
    _drop_references(service, keep="")
    (service / ".github/workflows").mkdir(parents=True)
    (service / ".github/workflows/smoke.yml").write_text(
        "jobs:\n  smoke:\n    steps:\n      - run: python -c 'import app.api.health_legacy'\n"
    )
    (service / "app/api/extra.py").write_text("from . import health_legacy as old\n")
    assert _delete_refusal(service) == [".github/workflows/smoke.yml", "app/api/extra.py"]


def test_delete_goes_ahead_once_nothing_refers_and_everything_imports(service: Path) -> None:
    _drop_references(service, keep="")
    (service / "CHANGELOG.md").write_text("- app.api.health_legacy is deprecated\n")
    applied = apply_verified(compute_plan(parse_plan(_DELETE), service))
    assert applied.files_changed == 1 and applied.refusals == []
    assert not (service / "app/api/health_legacy.py").exists()
    assert broken_modules(service) == {}


def test_the_cli_exits_1_and_names_a_module_the_move_broke(service: Path, sophia) -> None:  # type: ignore[no-untyped-def]
    dynamic = 'import importlib\n\nMOD = importlib.import_module("config." + "manager")\n'
    (service / "app/dynamic.py").write_text(dynamic + "from config import manager\n")
    plan = service.parent / "move.yaml"
    plan.write_text(_MOVE)
    result = sophia("migrate", "run", str(plan), str(service), "--apply", "--yes", "--no-diff")
    assert result.exit_code == 1
    assert "app.dynamic" in result.stderr and "broken by this migration" in result.stderr
    assert "sophia migrate rollback" in result.stderr
