"""The plan's verification step: import every module a move touched, in a child interpreter.

Each module is imported before --apply (under its old name) and after (under its new one),
each in a fresh interpreter, so a module that already failed (a missing dependency) is told
apart from one this migration broke. Bytecode is not written, so the tree stays as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sophia_cli.core.migrate.apply import Progress, apply_preview
from sophia_cli.core.migrate.models import (
    AppliedMigration,
    ImportTarget,
    MigrationPreview,
    ModuleCheck,
)

_TIMEOUT_S = 60.0
_WORKERS = 4
_IMPORT = "import importlib, sys; importlib.import_module(sys.argv[1])"


def interpreter(root: Path) -> str:
    """The tree's own virtualenv Python when it has one, else the one running sophia."""
    for candidate in (".venv/bin/python", "venv/bin/python"):
        if (root / candidate).is_file():
            return str(root / candidate)
    return sys.executable


def import_module(root: Path, module: str) -> tuple[bool, str | None]:
    """Import `module` from `root` in a child interpreter: (ok, last error line)."""
    paths = [str(root)] + ([str(root / "src")] if (root / "src").is_dir() else [])
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}
    }
    env |= {"PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            [interpreter(root), "-c", _IMPORT, module],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"import did not finish in {_TIMEOUT_S:.0f} s"
    except OSError as exc:
        return False, f"cannot start Python: {exc.strerror or exc}"
    if done.returncode == 0:
        return True, None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return False, (lines[-1][:300] if lines else f"exit code {done.returncode}")


def check_imports(root: Path, modules: list[str]) -> dict[str, tuple[bool, str | None]]:
    """Import each module in its own child interpreter, a few at a time."""
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        results = pool.map(lambda module: import_module(root, module), modules)
        return dict(zip(modules, results, strict=True))


def apply_verified(
    preview: MigrationPreview, *, verify: bool = True, on_start: Progress | None = None
) -> AppliedMigration:
    """Apply the preview; with moves, import the touched modules before and after."""
    root = Path(preview.root)
    targets: list[ImportTarget] = preview.verify if verify else []
    before = check_imports(root, [t.module_before for t in targets]) if targets else {}
    applied = apply_preview(preview, on_start=on_start)
    if not targets or not applied.id:
        return applied
    after = check_imports(root, [t.module_after for t in targets])
    checks = [
        ModuleCheck(
            module=t.module_after,
            path=t.path_after,
            before=before[t.module_before][0],
            after=after[t.module_after][0],
            error=after[t.module_after][1],
        )
        for t in targets
    ]
    return applied.model_copy(update={"verification": checks})
