"""The layered configuration: which value wins for each variable, and from where.

Lowest to highest precedence: `.env.example`, `.env.<environment>`, `.env.master`, an
explicit `--env-file`, the process environment. Secrets still unset after that are read from
the keyring (or AWS Secrets Manager with SOPHIA_SECRETS_BACKEND=aws), a value
`keyring://sophia/NAME` is always read from the keyring, and a value `aws-sm://NAME[#key]`
from AWS Secrets Manager. A reference that cannot be read is kept as an error: settings for a
command refuse to load with it (never a silent fallback to a default), `env check` lists it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sophia_cli.core.env.parse import EnvFile, file_values, parse_file
from sophia_cli.core.errors import ConfigError, SophiaError
from sophia_cli.core.setting_specs import deprecated_names, setting_specs, spec_by_env_name
from sophia_cli.core.settings import PLACEHOLDER, Environment, Settings, load_settings

EXAMPLE_FILE = ".env.example"
MASTER_FILE = ".env.master"
PROCESS = "process environment"
KEYRING = "keyring"
AWS_SM = "aws-sm"
KEYRING_REFERENCE = re.compile(r"^keyring://sophia/([A-Z_][A-Z0-9_]*)$")
_DEPRECATED_FAMILY = "OPENROUTER_"


def environment_file(environment: Environment) -> str:
    """The env file of one environment, e.g. `.env.production`."""
    return f".env.{environment.value}"


@dataclass(frozen=True)
class Assignment:
    """One layer's value for a variable (internal: holds the real value, never rendered)."""

    layer: str
    value: str | None
    file: Path | None = None
    line: int | None = None
    raw: str | None = None  # as written, before `${VAR}` interpolation (files only)


@dataclass(frozen=True)
class LoadedFile:
    """An env file that exists, with the layer it forms."""

    layer: str
    path: Path
    parsed: EnvFile


@dataclass
class Layers:
    """Every layer's assignments per variable, lowest precedence first."""

    directory: Path
    environment: Environment
    files: list[LoadedFile]
    assignments: dict[str, list[Assignment]]
    keyring_error: str | None = None
    keyring_used: list[str] = field(default_factory=list)
    aws_used: list[str] = field(default_factory=list)
    # Variables whose secret reference (or secrets backend) could not be read, and why.
    unresolved: dict[str, SophiaError] = field(default_factory=dict)

    def effective(self) -> dict[str, Assignment]:
        """The winning assignment of every variable."""
        return {name: found[-1] for name, found in self.assignments.items() if found}

    def values(self) -> dict[str, str]:
        """Winning values that are real (not empty, not a placeholder)."""
        return {
            name: a.value
            for name, a in self.effective().items()
            if a.value is not None and is_set(a.value)
        }


def is_set(value: str | None) -> bool:
    """Whether a value counts as set (placeholders and empty strings do not)."""
    return value is not None and value.strip() not in ("", PLACEHOLDER)


def resolve_environment(
    directory: Path,
    env: Environment | None,
    environ: Mapping[str, str],
    extra_file: Path | None = None,
) -> Environment:
    """The environment: explicit, else SOPHIA_ENV (process, --env-file, then .env.master)."""
    if env is not None:
        return env
    chosen = environ.get("SOPHIA_ENV")
    for path in (extra_file, directory / MASTER_FILE):
        if not chosen and path is not None and path.is_file():
            entry = parse_file(path).last_values().get("SOPHIA_ENV")
            chosen = entry.raw if entry else None
    if not chosen or chosen.strip() in ("", PLACEHOLDER):
        return Environment.DEVELOPMENT
    try:
        return Environment(chosen.strip().lower())
    except ValueError as exc:
        raise ConfigError(
            f"SOPHIA_ENV={chosen!r} is not an environment",
            hint="Use development or production.",
        ) from exc


def layer_paths(
    directory: Path, environment: Environment, extra_file: Path | None = None
) -> list[tuple[str, Path]]:
    """The file layers, lowest precedence first (existing or not)."""
    names = [EXAMPLE_FILE, environment_file(environment), MASTER_FILE]
    paths = [(name, directory / name) for name in names]
    if extra_file is not None:
        paths.append((str(extra_file), extra_file))
    return paths


def load_layers(
    directory: Path,
    env: Environment | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    extra_file: Path | None = None,
    use_keyring: bool = True,
) -> Layers:
    """Read every layer of `directory` and resolve which value wins for each variable."""
    environ = os.environ if environ is None else environ
    environment = resolve_environment(directory, env, environ, extra_file)
    layers = Layers(directory=directory, environment=environment, files=[], assignments={})
    for label, path in layer_paths(directory, environment, extra_file):
        if path.is_file():
            _add_file(layers, LoadedFile(label, path, parse_file(path)), environ)
    _add_process(layers, environ)
    if use_keyring:
        _add_keyring(layers)
        _add_aws(layers)
    return layers


def load_layered_settings(
    directory: Path,
    env: Environment | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    extra_file: Path | None = None,
) -> Settings:
    """Settings from the layers of `directory` (process env > files > keyring).

    Raises the first unreadable secret reference's error (see `load_layered`).
    """
    settings, layers = load_layered(directory, env, environ, extra_file=extra_file)
    raise_unresolved(layers)
    return settings


def load_layered(
    directory: Path,
    env: Environment | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    extra_file: Path | None = None,
) -> tuple[Settings, Layers]:
    """Settings from the layers of `directory`, and the layers they came from."""
    layers = load_layers(directory, env, environ, extra_file=extra_file)
    return settings_from_values(_with_deprecated(layers.values()), layers.environment), layers


def raise_unresolved(layers: Layers) -> None:
    """Refuse settings with a secret reference that could not be read, naming the variable."""
    for name, exc in layers.unresolved.items():
        raise type(exc)(f"{name}: {exc.message}", hint=exc.hint) from exc


def layer_summary(layers: Layers) -> str:
    """Which layers supplied values, lowest precedence first, e.g. for `sophia serve`."""
    labels = [a.layer for found in layers.assignments.values() for a in found if is_set(a.value)]
    used = {label.split(" → ")[0] for label in labels}
    parts = [f"{loaded.path}" for loaded in layers.files if loaded.layer in used]
    if PROCESS in used:
        parts.append(PROCESS)
    from_keyring = sorted(
        {
            *layers.keyring_used,
            *(n for n, f in layers.assignments.items() if f and f[-1].layer.endswith(KEYRING)),
        }
    )
    if from_keyring:
        parts.append(f"{KEYRING} ({', '.join(from_keyring)})")
    from_aws = sorted(
        {
            *layers.aws_used,
            *(n for n, f in layers.assignments.items() if f and f[-1].layer.endswith(AWS_SM)),
        }
    )
    if from_aws:
        parts.append(f"{AWS_SM} ({', '.join(from_aws)})")
    if layers.keyring_error:
        parts.append(f"{KEYRING} not read: {layers.keyring_error}")
    shown = ", ".join(parts) if parts else "defaults only"
    return f"settings ({layers.environment.value}) from {shown}"


def settings_from_values(values: Mapping[str, str], environment: Environment) -> Settings:
    """Settings built from these values only (every field given, so nothing else leaks in)."""
    given: dict[str, Any] = {}
    for spec in setting_specs():
        value = values.get(spec.env_name)
        given[spec.field_name] = value if value is not None else spec.default
    given["sophia_env"] = environment  # the environment whose file was loaded
    return load_settings(**given)


def _with_deprecated(values: dict[str, str]) -> dict[str, str]:
    # A deprecated name still works while its replacement is unset (check warns about it).
    result = dict(values)
    for old, new in deprecated_names().items():
        if old in values and new not in values:
            result[new] = values[old]
    return result


def _add_file(layers: Layers, loaded: LoadedFile, environ: Mapping[str, str]) -> None:
    layers.files.append(loaded)
    resolved = file_values(loaded.parsed, environ)
    for name, entry in loaded.parsed.last_values().items():
        assignment = Assignment(
            loaded.layer, resolved.get(name), loaded.path, entry.line, raw=entry.raw
        )
        layers.assignments.setdefault(name, []).append(assignment)


def _add_process(layers: Layers, environ: Mapping[str, str]) -> None:
    known = set(spec_by_env_name()) | set(deprecated_names()) | set(layers.assignments)
    for name, value in environ.items():
        if name in known or name.startswith(_DEPRECATED_FAMILY):
            layers.assignments.setdefault(name, []).append(Assignment(PROCESS, value))


def _add_keyring(layers: Layers) -> None:
    effective = layers.effective()
    references = {
        name: match.group(1)
        for name, a in effective.items()
        if a.value and (match := KEYRING_REFERENCE.match(a.value.strip()))
    }
    unset = _unset_secrets(layers) if _backend(layers) == "keyring" else []
    if not references and not unset:
        return
    try:
        stored = _read_keyring(layers, [*unset, *references.values()], referenced=bool(references))
    except SophiaError as exc:
        layers.keyring_error = exc.message
        stored = {}
    for name, target in references.items():
        winner = layers.assignments[name][-1]
        # The reference stays the winning layer; its value is what the keyring holds.
        layers.assignments[name][-1] = Assignment(
            f"{winner.layer} → {KEYRING}", stored.get(target), winner.file, winner.line
        )
    for name in unset:
        if name in stored:
            layers.assignments.setdefault(name, []).append(Assignment(KEYRING, stored[name]))
            layers.keyring_used.append(name)


def _backend(layers: Layers) -> str:
    chosen = layers.values().get("SOPHIA_SECRETS_BACKEND", "keyring")
    return chosen.strip().lower()


def _unset_secrets(layers: Layers) -> list[str]:
    effective = layers.effective()
    return [
        s.env_name
        for s in setting_specs()
        if s.secret
        and s.env_name != "SOPHIA_KEYRING_PASSWORD"
        and not is_set(effective[s.env_name].value if s.env_name in effective else None)
    ]


def _add_aws(layers: Layers) -> None:
    from sophia_cli.core.env.aws_refs import is_reference

    references = {
        name: a.value.strip()
        for name, a in layers.effective().items()
        if a.value and is_reference(a.value)
    }
    unset = _unset_secrets(layers) if _backend(layers) == "aws" else []
    if not references and not unset:
        return
    for name, written in references.items():
        winner = layers.assignments[name][-1]
        value = _read_reference(layers, name, written)
        # The reference stays the winning layer; its value is what Secrets Manager holds.
        layers.assignments[name][-1] = Assignment(
            f"{winner.layer} → {AWS_SM}", value, winner.file, winner.line
        )
    if unset:
        try:
            from sophia_cli.core.env.secrets import read_values
            from sophia_cli.store.aws_secrets import AwsSecretStore

            stored = read_values(AwsSecretStore(), unset)
        except SophiaError as exc:
            layers.unresolved["SOPHIA_SECRETS_BACKEND"] = exc
            return
        for name in unset:
            if name in stored:
                layers.assignments.setdefault(name, []).append(Assignment(AWS_SM, stored[name]))
                layers.aws_used.append(name)


def _read_reference(layers: Layers, name: str, written: str) -> str | None:
    from sophia_cli.core.env.aws_refs import parse_reference

    try:
        reference = parse_reference(written)
        from sophia_cli.store.aws_secrets import resolve

        return resolve(reference)
    except SophiaError as exc:
        layers.unresolved[name] = exc
        return None


def _read_keyring(layers: Layers, names: list[str], *, referenced: bool) -> dict[str, str]:
    from sophia_cli.core.env.secrets import read_values
    from sophia_cli.store.keyring import keyring_in_use, open_keyring

    values = {
        k: v
        for k, v in layers.values().items()
        if not KEYRING_REFERENCE.match(v) and not v.strip().startswith("aws-sm://")
    }
    settings = settings_from_values(values, layers.environment)
    if not referenced and not keyring_in_use(settings):
        return {}  # nothing was ever stored: skip the cost of finding a backend
    return read_values(open_keyring(settings), names)
