"""SIGKILL during `--apply` (and during rollback) never leaves a half-written file.

A generated tree is big enough that kills land while files are being replaced. After each
kill every file must be wholly old or wholly new, and a rollback must restore the original
bytes exactly. The timing of each kill is random; the seed is printed on failure.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from migrate_helpers import tree_bytes

from sophia_cli.core.errors import NotFoundError
from sophia_cli.core.migrate.run import history, rollback

FILES = 1500
KILLS = 12
MAX_KILLS = 36  # more attempts, only if too few of the first KILLS landed mid-apply
MIN_PARTIAL = 3
CLI = [sys.executable, "-m", "sophia_cli", "migrate"]


def _generate(root: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A tree of small env files; returns their old and expected new bytes."""
    old, new = {}, {}
    for i in range(FILES):
        rel = f"svc{i % 25}/app{i}.env"
        body = f"API_URL=http://localhost:8003/{i}\nVERSION=1.8003\nPORT=8003\n".encode()
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body)
        old[rel], new[rel] = body, body.replace(b":8003/", b":8000/").replace(b"=8003", b"=8000")
    return old, new


def _run_and_kill(args: list[str], marker: str | None, max_delay: float, rng: random.Random) -> int:
    """Start the CLI, wait for `marker` on stderr (if any), sleep at random, then SIGKILL it."""
    process = subprocess.Popen(
        CLI + args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stderr is not None
    for line in process.stderr if marker else ():
        if marker in line:
            break
    time.sleep(rng.uniform(0.0, max_delay))
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    return process.returncode


def _assert_each_file_old_or_new(root: Path, old: dict[str, bytes], new: dict[str, bytes]) -> int:
    """Returns how many files are new; fails on any file that is neither."""
    now = {
        rel: data
        for rel, data in tree_bytes(root).items()
        if not rel.split("/")[-1].startswith(".")
    }
    assert set(now) == set(old)
    torn = [rel for rel, data in now.items() if data not in (old[rel], new[rel])]
    assert torn == []
    return sum(1 for rel, data in now.items() if data == new[rel])


def _replace_window(tree: Path) -> float:
    """Seconds between the `applying` notice and the end of a full, unkilled apply."""
    process = subprocess.Popen(
        [*CLI, "ports", str(tree), "--apply", "--yes", "--no-diff"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    started = time.monotonic()
    for line in process.stderr:
        if "applying" in line:
            started = time.monotonic()
    process.wait()
    process.stderr.close()
    return max(0.02, time.monotonic() - started)


@pytest.mark.slow
def test_sigkill_during_apply_and_rollback_never_tears_a_file(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    tree = tmp_path / "tree"
    old, new = _generate(tree)
    window = _replace_window(tree)
    rollback(tree)
    partial_applies = 0
    attempt = -1
    while attempt + 1 < KILLS or (partial_applies < MIN_PARTIAL and attempt + 1 < MAX_KILLS):
        attempt += 1
        # Most kills land while originals are being replaced; every fourth one at any time
        # from start-up, often while backups and new contents are written beside them.
        early = attempt % 4 == 0
        code = _run_and_kill(
            ["ports", str(tree), "--apply", "--yes", "--no-diff"],
            None if early else "applying",
            # Aim inside the measured replace window, so the kill lands while files change
            # even on a loaded machine where the window is short or long.
            2.0 if early else window * 0.9,
            rng,
        )
        changed = _assert_each_file_old_or_new(tree, old, new)
        if 0 < changed < FILES:
            partial_applies += 1
            assert history(tree)[0].status == "interrupted"
        if attempt % 2 and code == -signal.SIGKILL and changed:
            _run_and_kill(["rollback", "--path", str(tree), "--yes"], "rolling back", 0.5, rng)
            _assert_each_file_old_or_new(tree, old, new)
        # No journal to roll back means the kill came before any file changed, or the
        # killed rollback had already finished: either way the tree must be the original.
        with contextlib.suppress(NotFoundError):
            rollback(tree)
        assert tree_bytes(tree) == old, f"seed {seed}: rollback did not restore attempt {attempt}"
    print(f"sigkill: {partial_applies} partial applies, window {window:.2f}s, seed {seed}")
    assert partial_applies >= MIN_PARTIAL, (
        f"seed {seed}: only {partial_applies} kills landed mid-apply (window {window:.2f}s)"
    )
