"""File selection and byte-exact preservation: encodings, line endings, modes, links, git."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from migrate_helpers import git, tree_bytes

from sophia_cli.core.migrate.files import glob_matcher
from sophia_cli.core.migrate.run import apply_preview, compute_plan, ports_plan, rollback

Tree = Callable[[dict[str, bytes | str]], Path]
PLAN = ports_plan(8003, 8000)


def _apply(root: Path) -> None:
    apply_preview(compute_plan(PLAN, root))


def test_a_latin1_file_keeps_its_bytes_outside_the_edit(make_tree: Tree) -> None:
    original = "# caf\xe9 cr\xe8me\nPORT=8003\n".encode("latin-1")
    root = make_tree({"app.env": original})
    _apply(root)
    assert (root / "app.env").read_bytes() == original.replace(b"8003", b"8000")


def test_crlf_line_endings_are_kept(make_tree: Tree) -> None:
    root = make_tree({"svc.yaml": b"port: 8003\r\nname: api\r\n"})
    _apply(root)
    assert (root / "svc.yaml").read_bytes() == b"port: 8000\r\nname: api\r\n"


def test_a_missing_trailing_newline_stays_missing(make_tree: Tree) -> None:
    root = make_tree({"run.sh": b"uvicorn app:app --port 8003"})
    _apply(root)
    assert (root / "run.sh").read_bytes() == b"uvicorn app:app --port 8000"


def test_a_utf8_bom_is_kept(make_tree: Tree) -> None:
    root = make_tree({"c.json": b'\xef\xbb\xbf{"port": 8003}\n'})
    _apply(root)
    assert (root / "c.json").read_bytes() == b'\xef\xbb\xbf{"port": 8000}\n'


def test_a_read_only_file_is_edited_and_stays_read_only(make_tree: Tree) -> None:
    root = make_tree({"ro.env": "PORT=8003\n", "run.sh": "exec --port 8003\n"})
    (root / "ro.env").chmod(0o444)
    (root / "run.sh").chmod(0o750)
    _apply(root)
    assert (root / "ro.env").read_text() == "PORT=8000\n"
    assert stat.S_IMODE((root / "ro.env").stat().st_mode) == 0o444
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o750
    rollback(root)
    assert stat.S_IMODE((root / "ro.env").stat().st_mode) == 0o444
    assert (root / "ro.env").read_text() == "PORT=8003\n"


def test_a_symlink_pointing_outside_the_tree_is_skipped_and_its_target_untouched(
    make_tree: Tree, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.env"
    outside.write_text("PORT=8003\n")
    root = make_tree({"inside.env": "PORT=8003\n"})
    os.symlink(outside, root / "linked.env")
    preview = compute_plan(PLAN, root)
    assert [(s.path, s.reason) for s in preview.skipped] == [
        ("linked.env", "symlink outside the root")
    ]
    apply_preview(preview)
    assert outside.read_text() == "PORT=8003\n"
    assert (root / "linked.env").is_symlink()


def test_a_symlinked_folder_is_not_followed(make_tree: Tree, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.env").write_text("PORT=8003\n")
    root = make_tree({"a.env": "PORT=8003\n"})
    os.symlink(elsewhere, root / "linked")
    preview = compute_plan(PLAN, root)
    assert [c.path for c in preview.changes] == ["a.env"]


def test_binary_files_are_skipped(make_tree: Tree) -> None:
    root = make_tree({"blob.json": b"\x00\x01PORT=8003\x00", "ok.env": "PORT=8003\n"})
    preview = compute_plan(PLAN, root)
    assert [c.path for c in preview.changes] == ["ok.env"]
    assert ("blob.json", "binary") in [(s.path, s.reason) for s in preview.skipped]


def test_gitignored_files_are_skipped_outside_a_repository(make_tree: Tree) -> None:
    root = make_tree(
        {
            ".gitignore": "build/\n*.local.env\n",
            "build/out.env": "PORT=8003\n",
            "dev.local.env": "PORT=8003\n",
            "sub/.gitignore": "secret.yaml\n",
            "sub/secret.yaml": "port: 8003\n",
            "sub/kept.yaml": "port: 8003\n",
        }
    )
    preview = compute_plan(PLAN, root)
    assert [c.path for c in preview.changes] == ["sub/kept.yaml"]


def test_in_a_git_repository_only_tracked_files_change_unless_all(
    git_repo: Callable[..., Path],
) -> None:
    root = git_repo({"tracked.env": "PORT=8003\n", ".gitignore": "ignored.env\n"})
    (root / "untracked.env").write_text("PORT=8003\n")
    (root / "ignored.env").write_text("PORT=8003\n")
    tracked_only = compute_plan(PLAN, root)
    with_all = compute_plan(PLAN, root, include_untracked=True)
    assert [c.path for c in tracked_only.changes] == ["tracked.env"]
    assert [c.path for c in with_all.changes] == ["tracked.env", "untracked.env"]


def test_the_journal_folder_is_ignored_by_git_and_never_scanned(
    git_repo: Callable[..., Path],
) -> None:
    root = git_repo({"a.env": "PORT=8003\n"})
    _apply(root)
    assert git(root, "status", "--porcelain") == " M a.env\n"
    assert compute_plan(ports_plan(8000, 8003), root, include_untracked=True).files_scanned == 1


def test_default_globs_cover_the_usual_config_and_code_files() -> None:
    matches = glob_matcher(("**/*.{py,sh,md,yaml,yml,json}", "Dockerfile*", "*.env*"))
    for path in (
        "a.py",
        "deep/er/b.yml",
        "Dockerfile",
        "docker/Dockerfile.prod",
        ".env.staging",
        "conf/service.env",
    ):
        assert matches(path), path
    for path in ("Makefile", "a.pyc", "img.png", "notes.txt"):
        assert not matches(path), path


def test_rollback_restores_every_file_kind_byte_for_byte(make_tree: Tree) -> None:
    root = make_tree(
        {
            "latin.env": "# \xe9\nPORT=8003\n".encode("latin-1"),
            "crlf.yaml": b"port: 8003\r\n",
            "nonl.sh": b"--port 8003",
        }
    )
    before = tree_bytes(root)
    _apply(root)
    assert tree_bytes(root) != before
    rollback(root)
    assert tree_bytes(root) == before
