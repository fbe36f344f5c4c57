"""Checks on the files and names: parse errors, hazards, duplicates, conflicts, names."""

from __future__ import annotations

import difflib

from sophia_cli.core.env.findings import Finding, error, info, warning
from sophia_cli.core.env.layers import EXAMPLE_FILE, PROCESS, Layers, is_set
from sophia_cli.core.setting_specs import deprecated_names, spec_by_env_name


def check_files(layers: Layers) -> list[Finding]:
    """Unparsable lines, dialect hazards and duplicate keys of every env file."""
    findings: list[Finding] = []
    for loaded in layers.files:
        parsed, name = loaded.parsed, str(loaded.path)
        for line in parsed.invalid_lines:
            findings.append(
                error(
                    "parse-error",
                    f"line {line} of {loaded.layer} cannot be parsed and is ignored",
                    file=name,
                    line=line,
                    hint="Write it as KEY=value (quote values with spaces).",
                )
            )
        for hazard in parsed.hazards:
            findings.append(
                warning(
                    "dialect-hazard",
                    hazard.message,
                    file=name,
                    line=hazard.line,
                    variable=hazard.key,
                    hint=f"portability: {hazard.code}",
                )
            )
        for key, lines in parsed.duplicates().items():
            shown = ", ".join(str(n) for n in lines)
            findings.append(
                warning(
                    "duplicate-key",
                    f"{key} is assigned {len(lines)} times in {loaded.layer} "
                    f"(lines {shown}); the last one wins",
                    variable=key,
                    file=name,
                    line=lines[-1],
                )
            )
    return findings


def check_conflicts(layers: Layers) -> list[Finding]:
    """Keys set to different real values in two layers (the template does not count)."""
    findings = []
    for key, found in layers.assignments.items():
        real = [a for a in found if a.layer != EXAMPLE_FILE and is_set(a.value)]
        for lower, higher in zip(real, real[1:], strict=False):
            if lower.value == higher.value:
                continue
            make = info if higher.layer == PROCESS else warning
            findings.append(
                make(
                    "layer-conflict",
                    f"{key}: {higher.layer} overrides a different value from {lower.layer}",
                    variable=key,
                    file=str(higher.file) if higher.file else None,
                    line=higher.line,
                    hint=f"Keep {key} in one layer, or remove it from {lower.layer}.",
                )
            )
    return findings


def check_names(layers: Layers) -> list[Finding]:
    """Deprecated variables (with their replacement) and unknown ones (with a suggestion)."""
    specs = spec_by_env_name()
    replaced = deprecated_names()
    findings = []
    for key, found in sorted(layers.assignments.items()):
        last = found[-1]
        where = {"variable": key, "file": str(last.file) if last.file else None, "line": last.line}
        if key in replaced:
            findings.append(
                warning(
                    "deprecated-variable",
                    f"{key} is deprecated; use {replaced[key]} (LiteLLM)",
                    hint="Rename it, or run `sophia env consolidate` to rewrite it.",
                    **where,
                )
            )
        elif key.startswith("OPENROUTER_"):
            findings.append(
                warning(
                    "deprecated-variable",
                    f"{key} is deprecated: OpenRouter is replaced by LiteLLM",
                    hint="Remove it; configure LITELLM_API_KEY / LITELLM_API_BASE instead.",
                    **where,
                )
            )
        elif key not in specs:
            guess = difflib.get_close_matches(key, list(specs), n=1, cutoff=0.75)
            suffix = f"; did you mean {guess[0]}?" if guess else ""
            findings.append(
                warning(
                    "unknown-variable",
                    f"{key} is not a sophia setting{suffix}",
                    hint=f"Rename it to {guess[0]}." if guess else "Remove it if nothing reads it.",
                    **where,
                )
            )
    return findings
