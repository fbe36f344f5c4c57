"""`sophia env check`: load every layer and report every problem in one run."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from sophia_cli.core.env import hygiene, structure, values
from sophia_cli.core.env.findings import Finding, Severity, error, info
from sophia_cli.core.env.layers import Layers, is_set, load_layers
from sophia_cli.core.env.mask import display_value, name_looks_secret
from sophia_cli.core.errors import ExitCode, InputError
from sophia_cli.core.setting_specs import deprecated_names, spec_by_env_name
from sophia_cli.core.settings import Environment


class VariableReport(BaseModel):
    """One variable: its effective value (masked when secret), and where it came from."""

    name: str
    value: str | None
    layer: str
    overrides: list[str]
    secret: bool
    known: bool


class CheckSummary(BaseModel):
    errors: int
    warnings: int
    infos: int


class EnvReport(BaseModel):
    """The result of checking one directory's layers for one environment."""

    directory: str
    environment: Environment
    layers: list[str]
    variables: list[VariableReport]
    findings: list[Finding]
    summary: CheckSummary

    def exit_code(self, *, strict: bool = False) -> int:
        """0 when clean; 1 on errors (and on warnings with strict)."""
        if self.summary.errors or (strict and self.summary.warnings):
            return int(ExitCode.FAILURE)
        return int(ExitCode.OK)


def check_environment(
    directory: Path, env: Environment | None = None, environ: Mapping[str, str] | None = None
) -> EnvReport:
    """Check the layered configuration of `directory` for `env` (default: SOPHIA_ENV)."""
    if not directory.is_dir():
        raise InputError(f"{directory} is not a folder", hint="Pass the project folder with --dir.")
    directory = directory.resolve()
    environ = os.environ if environ is None else environ
    layers = load_layers(directory, env, environ)
    effective = layers.effective()
    findings = [
        *structure.check_files(layers),
        *values.check_values(effective, spec_by_env_name(), layers.environment),
        *structure.check_names(layers),
        *structure.check_conflicts(layers),
        *hygiene.check_permissions(directory),
        *hygiene.check_git(directory),
    ]
    if layers.keyring_error:
        findings.append(info("keyring-unavailable", f"keyring not read: {layers.keyring_error}"))
    findings.extend(_unresolved(layers))
    findings = [_relative(f, directory) for f in findings]
    findings.sort(key=_severity_rank)
    return EnvReport(
        directory=str(directory),
        environment=layers.environment,
        layers=[loaded.layer for loaded in layers.files],
        variables=_variables(layers),
        findings=findings,
        summary=CheckSummary(
            errors=sum(f.severity is Severity.ERROR for f in findings),
            warnings=sum(f.severity is Severity.WARNING for f in findings),
            infos=sum(f.severity is Severity.INFO for f in findings),
        ),
    )


def is_secret_name(name: str) -> bool:
    """Whether the variable holds a secret: by the model, its replacement, or its name."""
    specs = spec_by_env_name()
    spec = specs.get(deprecated_names().get(name, name))
    return spec.secret if spec is not None else name_looks_secret(name)


def _variables(layers: Layers) -> list[VariableReport]:
    specs = spec_by_env_name()
    effective = layers.effective()
    reports = []
    for name in [*specs, *sorted(set(effective) - set(specs))]:
        secret = is_secret_name(name)
        found = layers.assignments.get(name, [])
        winner = effective.get(name)
        if winner is None or not is_set(winner.value):
            default = specs[name].default if name in specs else None
            value = None if default is None else str(getattr(default, "value", default))
            layer = "default" if winner is None else f"{winner.layer} (unset)"
        else:
            value, layer = winner.value, winner.layer
        if name == "SOPHIA_ENV" and value != layers.environment.value:
            value, layer = layers.environment.value, "selected (--env)"
        if not secret and name not in specs and value:
            secret = _value_looks_secret(name, value)
        if winner is not None and " → " in winner.layer:
            secret = True  # read from a secret store: never printed, whatever the variable
        reports.append(
            VariableReport(
                name=name,
                value=display_value(value, secret=secret),
                layer=layer,
                overrides=[a.layer for a in found[:-1]],
                secret=secret,
                known=name in specs,
            )
        )
    return reports


def _unresolved(layers: Layers) -> list[Finding]:
    # The error names the secret and why it is unreadable; the value itself is never known.
    return [
        error("secret-unresolved", f"{name}: {exc.message}", variable=name, hint=exc.hint)
        for name, exc in layers.unresolved.items()
    ]


def _value_looks_secret(name: str, value: str) -> bool:
    # An unknown variable's name says nothing; the value may still be a token or a URL
    # with a password, which must not be printed either.
    from sophia_cli.core.env.scan.scanner import scan_text

    return bool(scan_text(f"{name}={value}")) or bool(re.search(r"://[^/@\s]*:[^@\s]+@", value))


def _relative(finding: Finding, directory: Path) -> Finding:
    if finding.file is None:
        return finding
    return finding.model_copy(update={"file": values.relative(Path(finding.file), directory)})


def _severity_rank(finding: Finding) -> int:
    return [Severity.ERROR, Severity.WARNING, Severity.INFO].index(finding.severity)
