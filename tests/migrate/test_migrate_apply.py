"""Apply and rollback: stale plans refused, edits since protected, rollback never repeats."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from migrate_helpers import tree_bytes

from sophia_cli.core.errors import ConflictError, InputError, NotFoundError
from sophia_cli.core.migrate.journal import load_journal, migrations_dir
from sophia_cli.core.migrate.run import (
    apply_preview,
    compute_plan,
    history,
    ports_plan,
    rollback,
)

Tree = Callable[[dict[str, bytes | str]], Path]
PLAN = ports_plan(8003, 8000)


def test_apply_refuses_a_file_changed_since_the_plan_and_writes_nothing(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n", "b.env": "PORT=8003\n"})
    preview = compute_plan(PLAN, root)
    (root / "b.env").write_text("PORT=8003\nX=1\n")
    with pytest.raises(ConflictError, match="b.env"):
        apply_preview(preview)
    assert (root / "a.env").read_text() == "PORT=8003\n"
    assert history(root) == []


def test_apply_journals_hashes_and_backups(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    applied = apply_preview(compute_plan(PLAN, root))
    journal = load_journal(migrations_dir(root) / applied.id)
    (entry,) = journal.entries
    assert journal.status == "applied"
    assert entry.path == "a.env" and entry.before_sha256 != entry.after_sha256
    assert (migrations_dir(root) / applied.id / entry.backup).read_text() == "PORT=8003\n"


def test_rollback_refuses_files_edited_since_and_lists_them(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n", "b.env": "PORT=8003\n"})
    apply_preview(compute_plan(PLAN, root))
    (root / "b.env").write_text("PORT=8000\nMINE=1\n")
    with pytest.raises(ConflictError, match="b.env"):
        rollback(root)
    assert (root / "a.env").read_text() == "PORT=8000\n"
    assert (root / "b.env").read_text() == "PORT=8000\nMINE=1\n"


def test_rollback_with_force_overwrites_files_edited_since(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    apply_preview(compute_plan(PLAN, root))
    (root / "a.env").write_text("PORT=8000\nMINE=1\n")
    result = rollback(root, force=True)
    assert result.restored == ["a.env"]
    assert (root / "a.env").read_text() == "PORT=8003\n"


def test_rolling_back_the_same_migration_twice_is_refused(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    applied = apply_preview(compute_plan(PLAN, root))
    rollback(root, applied.id)
    with pytest.raises(ConflictError, match="already rolled back"):
        rollback(root, applied.id)
    with pytest.raises(NotFoundError):
        rollback(root)
    assert (root / "a.env").read_text() == "PORT=8003\n"


def test_rollback_without_id_undoes_the_latest_migration_first(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    first = apply_preview(compute_plan(PLAN, root))
    second = apply_preview(compute_plan(ports_plan(8000, 9000), root))
    assert rollback(root).id == second.id
    assert (root / "a.env").read_text() == "PORT=8000\n"
    assert rollback(root).id == first.id
    assert (root / "a.env").read_text() == "PORT=8003\n"


def test_an_unknown_migration_id_is_not_found(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    with pytest.raises(NotFoundError):
        rollback(root, "20990101T000000000000Z-dead")
    with pytest.raises(NotFoundError):
        rollback(root, "../../etc")


def test_history_lists_migrations_newest_first_with_their_status(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    first = apply_preview(compute_plan(PLAN, root))
    second = apply_preview(compute_plan(ports_plan(8000, 9000), root))
    rollback(root)
    records = history(root)
    assert [(r.id, r.status) for r in records] == [
        (second.id, "rolled_back"),
        (first.id, "applied"),
    ]


def test_a_preview_loaded_from_json_cannot_be_applied(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n"})
    preview = compute_plan(PLAN, root)
    reloaded = type(preview).model_validate_json(preview.model_dump_json())
    with pytest.raises(InputError):
        apply_preview(reloaded)


def test_an_interrupted_migration_shows_as_interrupted_and_rolls_back(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8003\n", "b.env": "PORT=8003\n"})
    before = tree_bytes(root)
    applied = apply_preview(compute_plan(PLAN, root))
    folder = migrations_dir(root) / applied.id
    journal = load_journal(folder)
    # Simulate a kill after the first file: journal still `applying`, b.env back to old.
    (folder / "journal.json").write_text(
        journal.model_copy(update={"status": "applying"}).model_dump_json()
    )
    (root / "b.env").write_text("PORT=8003\n")
    (root / f".b.env.sophia-{applied.id}.tmp").write_text("half")
    assert history(root)[0].status == "interrupted"
    result = rollback(root)
    assert result.restored == ["a.env"] and result.already_original == ["b.env"]
    assert tree_bytes(root) == before


def test_the_tree_must_be_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        compute_plan(PLAN, tmp_path / "missing")


def test_a_second_apply_while_one_holds_the_lock_is_refused(make_tree: Tree) -> None:
    from sophia_cli.core.migrate.journal import locked

    root = make_tree({"a.env": "PORT=8003\n"})
    preview = compute_plan(PLAN, root)
    with locked(root), pytest.raises(ConflictError, match="another migration"):
        apply_preview(preview)
    assert (root / "a.env").read_text() == "PORT=8003\n"


def test_applying_an_empty_preview_writes_nothing(make_tree: Tree) -> None:
    root = make_tree({"a.env": "PORT=8000\n"})
    applied = apply_preview(compute_plan(PLAN, root))
    assert applied.files_changed == 0
    assert not (root / ".sophia").exists()


def test_rollback_where_nothing_was_migrated_creates_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotFoundError):
        rollback(empty)
    with pytest.raises(NotFoundError):
        rollback(empty / "missing")
    assert list(empty.iterdir()) == []
