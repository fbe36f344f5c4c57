"""Step kinds: move with import fixes, guarded delete, env renames and text rewrites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from migrate_helpers import git, tree_bytes

from sophia_cli.core.migrate.run import (
    apply_preview,
    compute_plan,
    load_plan,
    parse_plan,
    rollback,
)

Tree = Callable[[dict[str, bytes | str]], Path]


def _plan(steps: str) -> str:
    return f"name: t\nsteps:\n{steps}"


def test_move_rewrites_imports_and_path_mentions(make_tree: Tree) -> None:
    root = make_tree(
        {
            "config/manager.py": "VALUE = 1\n",
            "app/a.py": "import config.manager\nfrom config.manager import VALUE\n",
            "app/b.py": "from config import manager\nfrom config import manager as m  # legacy\n",
            "app/c.py": "import config.manager_extra\nx = 'config.managerial'\n",
            "docs/notes.md": "See config/manager.py for details.\n",
        }
    )
    plan = parse_plan(
        _plan("  - {kind: move, from: config/manager.py, to: config/legacy/manager.py}\n")
    )
    apply_preview(compute_plan(plan, root))
    assert not (root / "config/manager.py").exists()
    assert (root / "config/legacy/manager.py").read_text() == "VALUE = 1\n"
    assert (root / "app/a.py").read_text() == (
        "import config.legacy.manager\nfrom config.legacy.manager import VALUE\n"
    )
    assert (root / "app/b.py").read_text() == (
        "from config.legacy import manager\nfrom config.legacy import manager as m  # legacy\n"
    )
    assert (
        root / "app/c.py"
    ).read_text() == "import config.manager_extra\nx = 'config.managerial'\n"
    assert (root / "docs/notes.md").read_text() == "See config/legacy/manager.py for details.\n"


def test_move_in_a_git_repository_updates_the_index_and_rolls_back(
    git_repo: Callable[..., Path],
) -> None:
    root = git_repo({"config/manager.py": "VALUE = 1\n", "app.py": "import config.manager\n"})
    plan = parse_plan(
        _plan("  - {kind: move, from: config/manager.py, to: config/legacy/manager.py}\n")
    )
    apply_preview(compute_plan(plan, root))
    status = git(root, "status", "--porcelain")
    assert "R  config/manager.py -> config/legacy/manager.py" in status
    rollback(root)
    assert git(root, "status", "--porcelain") == ""
    assert not (root / "config/legacy").exists()


def test_move_onto_an_existing_file_is_refused(make_tree: Tree) -> None:
    root = make_tree({"a.py": "A = 1\n", "b.py": "B = 1\n"})
    preview = compute_plan(parse_plan(_plan("  - {kind: move, from: a.py, to: b.py}\n")), root)
    assert preview.changes == [] and preview.refusals[0].reason == "b.py already exists"


def test_move_outside_the_root_is_refused(make_tree: Tree) -> None:
    root = make_tree({"a.py": "A = 1\n"})
    preview = compute_plan(parse_plan(_plan("  - {kind: move, from: a.py, to: ../a.py}\n")), root)
    assert preview.changes == [] and "inside the root" in preview.refusals[0].reason


def test_delete_is_refused_while_the_module_is_imported_listing_importers(make_tree: Tree) -> None:
    root = make_tree(
        {
            "app/api/health_legacy.py": "def ok(): ...\n",
            "app/main.py": "from app.api import health_legacy\n",
            "app/api/routes.py": "from .health_legacy import ok\n",
            "app/other.py": "import app.api.health\n",
        }
    )
    plan = parse_plan(_plan("  - {kind: delete, path: app/api/health_legacy.py}\n"))
    preview = compute_plan(plan, root)
    assert preview.changes == []
    assert preview.refusals[0].referenced_by == ["app/api/routes.py", "app/main.py"]
    forced = compute_plan(plan, root, force=True)
    assert [(c.path, c.action) for c in forced.changes] == [("app/api/health_legacy.py", "delete")]


def test_delete_of_an_unused_module_removes_it_and_rollback_restores_it(make_tree: Tree) -> None:
    root = make_tree({"app/api/health_legacy.py": "def ok(): ...\n", "app/main.py": "x = 1\n"})
    before = tree_bytes(root)
    plan = parse_plan(_plan("  - {kind: delete, path: app/api/health_legacy.py}\n"))
    apply_preview(compute_plan(plan, root))
    assert not (root / "app/api/health_legacy.py").exists()
    rollback(root)
    assert tree_bytes(root) == before


def test_steps_on_missing_files_note_it_and_change_nothing(make_tree: Tree) -> None:
    root = make_tree({"a.py": "A = 1\n"})
    preview = compute_plan(load_plan("consolidate"), root)
    assert preview.changes == [] and preview.refusals == []
    assert any("nothing to move" in n for s in preview.steps for n in s.notes)


def test_rename_env_renames_every_form_and_keeps_values(make_tree: Tree) -> None:
    root = make_tree(
        {
            "svc.env": "OPENROUTER_API_KEY=${KEY_FROM_VAULT}\nOPENROUTER_API_KEY_OLD=x\n",
            "app.py": 'import os\nk = os.environ["OPENROUTER_API_KEY"]\n'
            'j = os.getenv("OPENROUTER_API_KEY")\n',
            "run.sh": 'echo "${OPENROUTER_API_KEY}" $OPENROUTER_API_KEY\n',
            "compose.yaml": "environment:\n  OPENROUTER_API_KEY: ${OPENROUTER_API_KEY:-none}\n",
        }
    )
    plan = parse_plan(
        _plan("  - {kind: rename_env, old: OPENROUTER_API_KEY, new: LITELLM_API_KEY}\n")
    )
    apply_preview(compute_plan(plan, root))
    assert (root / "svc.env").read_text() == (
        "LITELLM_API_KEY=${KEY_FROM_VAULT}\nOPENROUTER_API_KEY_OLD=x\n"
    )
    assert (root / "app.py").read_text() == (
        'import os\nk = os.environ["LITELLM_API_KEY"]\nj = os.getenv("LITELLM_API_KEY")\n'
    )
    assert (root / "run.sh").read_text() == 'echo "${LITELLM_API_KEY}" $LITELLM_API_KEY\n'
    assert (root / "compose.yaml").read_text() == (
        "environment:\n  LITELLM_API_KEY: ${LITELLM_API_KEY:-none}\n"
    )


def test_rename_env_leaves_an_env_file_setting_both_names_for_review(make_tree: Tree) -> None:
    root = make_tree({"svc.env": "OLD_KEY=1\nNEW_KEY=2\n"})
    preview = compute_plan(
        parse_plan(_plan("  - {kind: rename_env, old: OLD_KEY, new: NEW_KEY}\n")), root
    )
    assert preview.changes == []
    assert preview.review[0].path == "svc.env" and "merge by hand" in preview.review[0].reason


def test_replace_text_uses_word_boundaries_by_default(make_tree: Tree) -> None:
    root = make_tree({"a.md": "bridge, Bridge, bridges, subbridge, bridge.\n"})
    steps = "  - {kind: replace_text, pattern: bridge, replacement: api}\n"
    apply_preview(compute_plan(parse_plan(_plan(steps)), root))
    assert (root / "a.md").read_text() == "api, Bridge, bridges, subbridge, api.\n"


def test_replace_text_honours_its_own_globs_and_regex_groups(make_tree: Tree) -> None:
    root = make_tree({"a.md": "v=1.2\n", "a.py": "v=1.2\n"})
    steps = (
        "  - kind: replace_text\n    pattern: '(\\d+)\\.(\\d+)'\n    replacement: '\\2.\\1'\n"
        "    regex: true\n    globs: ['**/*.md']\n"
    )
    apply_preview(compute_plan(parse_plan(_plan(steps)), root))
    assert (root / "a.md").read_text() == "v=2.1\n"
    assert (root / "a.py").read_text() == "v=1.2\n"


def test_a_replacement_that_latin1_cannot_hold_is_refused(make_tree: Tree) -> None:
    root = make_tree({"a.md": "caf\xe9 bridge\n".encode("latin-1")})
    steps = '  - {kind: replace_text, pattern: bridge, replacement: "\u2192api"}\n'
    preview = compute_plan(parse_plan(_plan(steps)), root)
    assert preview.changes == [] and preview.refusals[0].kind == "encode"


def test_move_under_a_path_that_is_a_file_is_refused(make_tree: Tree) -> None:
    root = make_tree({"a.py": "A = 1\n", "b.py": "B = 1\n"})
    preview = compute_plan(parse_plan(_plan("  - {kind: move, from: a.py, to: b.py/a.py}\n")), root)
    assert preview.changes == [] and preview.refusals[0].reason == "b.py is a file, not a folder"


def test_delete_in_a_git_repository_stages_the_removal_and_rolls_back(
    git_repo: Callable[..., Path],
) -> None:
    root = git_repo({"app/api/health_legacy.py": "x = 1\n", "app/main.py": "y = 2\n"})
    plan = parse_plan(_plan("  - {kind: delete, path: app/api/health_legacy.py}\n"))
    apply_preview(compute_plan(plan, root))
    assert git(root, "status", "--porcelain") == "D  app/api/health_legacy.py\n"
    rollback(root)
    assert git(root, "status", "--porcelain") == ""
