"""Fixtures for migrate tests: copies of the corpus, small trees and git repositories."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from migrate_helpers import CORPUS, SERVICE, git


@pytest.fixture
def corpus_tree(tmp_path: Path) -> Path:
    """A private copy of the corpus input tree (not a git repository)."""
    target = tmp_path / "tree"
    shutil.copytree(CORPUS / "input", target)
    return target


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[[dict[str, bytes | str]], Path]:
    """Build a tree from {relative path: content}."""

    def build(files: dict[str, bytes | str]) -> Path:
        root = tmp_path / "made"
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else content
            path.write_bytes(data)
        return root

    return build


@pytest.fixture
def git_repo(make_tree: Callable[[dict[str, bytes | str]], Path]) -> Callable[..., Path]:
    """A tree committed to a fresh git repository."""

    def build(files: dict[str, bytes | str]) -> Path:
        root = make_tree(files)
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "seed")
        return root

    return build


@pytest.fixture
def service(tmp_path: Path) -> Path:
    """A private copy of the seed-like Python service (config/, app/, Procfile, compose...)."""
    target = tmp_path / "service"
    shutil.copytree(SERVICE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target
