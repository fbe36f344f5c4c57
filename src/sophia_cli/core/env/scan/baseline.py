"""Baselines: fingerprints of accepted findings, so only new secrets fail the scan.

A fingerprint hashes the rule and the secret, not the file, so renaming or moving a file
keeps its accepted findings accepted. The file is still recorded: a secret found in a file
the baseline names is accepted there; one found elsewhere is accepted only while the
baseline holds more copies of it than the tree shows at the recorded places (a rename),
so the same secret pasted into a new file is reported.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ValidationError

from sophia_cli.core.errors import InputError

BASELINE_VERSION = 2


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
        baseline = Baseline.model_validate(json.loads(path.read_text(encoding="utf-8")))
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
    if baseline.version != BASELINE_VERSION:
        raise InputError(
            f"baseline {path} is version {baseline.version}; this sophia reads version "
            f"{BASELINE_VERSION} (fingerprints no longer depend on the file name)",
            hint="Regenerate it with `sophia env scan --write-baseline FILE` and review the diff.",
        )
    return baseline


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write a baseline file (sorted, so it diffs well)."""
    entries = sorted(baseline.entries, key=lambda e: (e.file, e.rule, e.fingerprint))
    data = Baseline(entries=entries).model_dump(mode="json")
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


class Fingerprinted(Protocol):
    @property
    def fingerprint(self) -> str: ...

    @property
    def file(self) -> str: ...


def accepted_by(baseline: Baseline, findings: Sequence[Fingerprinted]) -> list[bool]:
    """For each finding, whether the baseline accepts it (see the module's note)."""
    at_place = Counter((e.fingerprint, e.file) for e in baseline.entries)
    spare = Counter(e.fingerprint for e in baseline.entries)
    verdicts = [False] * len(findings)
    for i, finding in enumerate(findings):
        if at_place[(finding.fingerprint, finding.file)] > 0:
            at_place[(finding.fingerprint, finding.file)] -= 1
            spare[finding.fingerprint] -= 1
            verdicts[i] = True
    for i, finding in enumerate(findings):
        if not verdicts[i] and spare[finding.fingerprint] > 0:
            spare[finding.fingerprint] -= 1
            verdicts[i] = True
    return verdicts
