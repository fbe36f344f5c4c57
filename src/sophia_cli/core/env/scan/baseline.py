"""Baselines: fingerprints of accepted findings, so only new secrets fail the scan."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from sophia_cli.core.errors import InputError

BASELINE_VERSION = 1


class BaselineEntry(BaseModel):
    fingerprint: str
    rule: str
    file: str


class Baseline(BaseModel):
    """The accepted findings (fingerprints only: a baseline never holds a secret)."""

    version: int = BASELINE_VERSION
    entries: list[BaselineEntry] = []

    def fingerprints(self) -> set[str]:
        return {entry.fingerprint for entry in self.entries}


def read_baseline(path: Path) -> Baseline:
    """Load a baseline file; InputError when it is missing or malformed."""
    try:
        return Baseline.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise InputError(
            f"baseline {path} does not exist",
            hint="Create one with `sophia env scan --write-baseline FILE`.",
        ) from exc
    except (ValueError, ValidationError) as exc:
        raise InputError(
            f"baseline {path} is not a sophia baseline file",
            hint="Regenerate it with `sophia env scan --write-baseline FILE`.",
        ) from exc


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write a baseline file (sorted, so it diffs well)."""
    entries = sorted(baseline.entries, key=lambda e: (e.file, e.rule, e.fingerprint))
    data = Baseline(entries=entries).model_dump(mode="json")
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
