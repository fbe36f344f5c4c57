"""`sophia env consolidate`: one canonical env file per environment, planned before written.

The canonical file holds the effective values of the env files (template < environment file
< .env.master; the process environment is not baked in), sorted and grouped by the settings
model's sections with each known key's description, deprecated names rewritten. Secrets can
move to the keyring, leaving `NAME=keyring://sophia/NAME` in the file.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from sophia_cli.core.env.layers import (
    EXAMPLE_FILE,
    KEYRING_REFERENCE,
    LoadedFile,
    environment_file,
    is_set,
    load_layers,
    resolve_environment,
)
from sophia_cli.core.env.mask import MASK, mask_secret
from sophia_cli.core.env.secrets import set_secrets
from sophia_cli.core.env_example import render_env_example
from sophia_cli.core.errors import ConfigError
from sophia_cli.core.setting_specs import deprecated_names, spec_by_env_name
from sophia_cli.core.settings import Environment, Section
from sophia_cli.store.keyring import Keyring

_BARE = re.compile(r"^[A-Za-z0-9_./:@%+,=~\-]*$")
_LINE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$")


class ConsolidationPlan(BaseModel):
    """What consolidation would write (the diff is masked: it never shows a secret)."""

    target: str
    environment: Environment | None
    diff: str
    changed: bool
    renamed: dict[str, str] = {}
    to_keyring: list[str] = []
    unknown_kept: list[str] = []
    # Other env files whose plaintext copies of moved secrets become keyring references.
    scrubbed: list[str] = []
    applied: bool = False
    backup: str | None = None


@dataclass
class Consolidation:
    """A plan with what applying it needs (holds real values: never render this)."""

    plan: ConsolidationPlan
    text: str
    mode: int = 0o600
    moves: dict[str, str] = field(default_factory=dict)  # secrets to store in the keyring
    scrubs: dict[Path, str] = field(default_factory=dict)  # other files' texts, references in


def plan_consolidation(
    directory: Path,
    env: Environment | None = None,
    *,
    out: Path | None = None,
    to_keyring: bool = False,
) -> Consolidation:
    """Plan the canonical file of one environment (nothing is written)."""
    environment = resolve_environment(directory, env, os.environ)
    layers = load_layers(directory, environment, environ={}, use_keyring=False)
    values: dict[str, str] = {}
    for name, assignment in layers.effective().items():
        if assignment.layer != EXAMPLE_FILE and is_set(assignment.value):
            values[name] = assignment.raw if assignment.raw is not None else assignment.value or ""
    values, renamed = _rewrite_deprecated(values)
    specs = spec_by_env_name()
    moved = sorted(
        n
        for n, v in values.items()
        if to_keyring and n in specs and specs[n].secret and not KEYRING_REFERENCE.match(v)
    )
    moves = {name: values[name] for name in moved}
    for name in moved:
        values[name] = f"keyring://sophia/{name}"
    text = render_canonical(values, environment)
    target = out or directory / environment_file(environment)
    plan = _plan(target, text, environment)
    plan.renamed, plan.to_keyring = renamed, moved
    plan.unknown_kept = sorted(n for n in values if n not in specs)
    scrubs = _scrubs(layers.files, target, set(moved))
    plan.scrubbed = [str(path) for path in scrubs]
    return Consolidation(plan, text, moves=moves, scrubs=scrubs)


def _scrubs(files: list[LoadedFile], target: Path, moved: set[str]) -> dict[Path, str]:
    """Every other env file holding a moved secret, rewritten to reference the keyring.

    A plaintext copy left in `.env.master` would win over the reference and keep the
    secret on disk: "moved to the keyring" must mean the plaintext is gone. The reference
    (rather than deleting the line) keeps every environment that reads the file working.
    """
    found: dict[Path, str] = {}
    for loaded in files:
        if loaded.layer == EXAMPLE_FILE or loaded.path.resolve() == target.resolve():
            continue
        text = loaded.path.read_text(encoding="utf-8")
        scrubbed = scrub_secrets(text, moved)
        if scrubbed != text:
            found[loaded.path] = scrubbed
    return found


def scrub_secrets(text: str, names: set[str]) -> str:
    """`text` with the values of `names` replaced by their keyring references."""
    lines = []
    for line in text.splitlines(keepends=True):
        match = _LINE.match(line.rstrip("\n"))
        if match and match.group(2) in names and not KEYRING_REFERENCE.match(match.group(4)):
            name = match.group(2)
            line = f"{match.group(1)}{name}{match.group(3)}keyring://sophia/{name}\n"
        lines.append(line)
    return "".join(lines)


def plan_example(directory: Path) -> Consolidation:
    """Regenerating `.env.example` from the settings model (the template is public: 644)."""
    text = render_env_example()
    return Consolidation(_plan(directory / EXAMPLE_FILE, text, None), text, mode=0o644)


def apply_consolidation(
    consolidation: Consolidation, keyring: Keyring | None, *, backup_dir: Path | None = None
) -> ConsolidationPlan:
    """Move secrets into the keyring first (a failure writes nothing), then write the file."""
    if consolidation.moves:
        if keyring is None:
            raise ConfigError("moving secrets needs a keyring")
        set_secrets(keyring, consolidation.moves)
    moved = set(consolidation.moves)
    backup = write_atomically(
        Path(consolidation.plan.target),
        consolidation.text,
        mode=consolidation.mode,
        backup_dir=backup_dir,
        backup_filter=lambda old: scrub_secrets(old, moved),  # no plaintext in backups either
    )
    for path, text in consolidation.scrubs.items():
        # Only secret values change, each into a reference: nothing to back up.
        mode = stat.S_IMODE(path.stat().st_mode) & 0o600 or 0o600
        write_atomically(path, text, mode=mode, keep_backup=False)
    return consolidation.plan.model_copy(
        update={"applied": True, "backup": str(backup) if backup else None}
    )


def render_canonical(values: dict[str, str], environment: Environment) -> str:
    """The canonical file: sections in model order, keys sorted, descriptions as comments."""
    specs = spec_by_env_name()
    parts = [
        f"# sophia configuration for {environment.value}, written by `sophia env consolidate`.\n"
    ]
    for section in Section:
        names = sorted(n for n in values if n in specs and specs[n].section is section)
        if names:
            parts.append(f"\n# --- {section.value} ---\n")
            parts.extend(f"# {specs[n].description}\n{n}={quote(values[n])}\n" for n in names)
    unknown = sorted(n for n in values if n not in specs)
    if unknown:
        parts.append("\n# --- not sophia settings (kept as they were) ---\n")
        parts.extend(f"{n}={quote(values[n])}\n" for n in unknown)
    return "".join(parts)


def quote(value: str) -> str:
    """A value written so python-dotenv reads it back unchanged."""
    if _BARE.match(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def mask_env_text(text: str) -> str:
    """Env-file text with the values of secret variables masked, for diffs and previews.

    A quoted secret that spans several lines is masked on every line it covers.
    """
    from sophia_cli.core.env.check import is_secret_name

    lines, open_quote = [], ""
    for line in text.splitlines(keepends=True):
        if open_quote:  # inside a multi-line secret value
            if open_quote in line:
                open_quote = ""
            lines.append(f"{MASK}\n")
            continue
        match = _LINE.match(line.rstrip("\n"))
        if match and is_secret_name(match.group(2)) and not KEYRING_REFERENCE.match(match.group(4)):
            raw = match.group(4)
            if raw[:1] in ("'", '"') and raw[1:].count(raw[0]) == 0:
                open_quote = raw[0]
            value = raw.strip("'\"")
            shown = value if value in ("", "CHANGEME") else mask_secret(value)
            line = f"{match.group(1)}{match.group(2)}{match.group(3)}{shown}\n"
        lines.append(line)
    return "".join(lines)


def write_atomically(
    path: Path,
    text: str,
    *,
    mode: int = 0o600,
    backup_dir: Path | None = None,
    backup_filter: Callable[[str], str] | None = None,
    keep_backup: bool = True,
) -> Path | None:
    """Write `text` to `path` via a temporary file; keep the old file as a backup.

    The backup goes to `backup_dir` (outside the repository, as it holds the same secrets)
    or next to the file. Returns the backup's path (None when there was no previous file).
    """
    backup = None
    if keep_backup and path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        folder = backup_dir or path.parent
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        backup = folder / f"{path.name}.bak-{stamp}"
        if backup_filter is None:
            backup.write_bytes(path.read_bytes())
        else:
            backup.write_text(backup_filter(path.read_text(encoding="utf-8")), encoding="utf-8")
        backup.chmod(0o600)  # the backup holds the same secrets as the file
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, mode)
    os.replace(temporary, path)
    return backup


def _rewrite_deprecated(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    result, renamed = dict(values), {}
    for old, new in deprecated_names().items():
        if old in result:
            value = result.pop(old)
            renamed[old] = new
            result.setdefault(new, value)  # an explicit new name wins over the old one
    return result, renamed


def _plan(target: Path, text: str, environment: Environment | None) -> ConsolidationPlan:
    old = target.read_text(encoding="utf-8") if target.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            mask_env_text(old).splitlines(keepends=True),
            mask_env_text(text).splitlines(keepends=True),
            fromfile=f"{target.name} (current)",
            tofile=f"{target.name} (consolidated)",
        )
    )
    return ConsolidationPlan(
        target=str(target), environment=environment, diff=diff, changed=old != text
    )
