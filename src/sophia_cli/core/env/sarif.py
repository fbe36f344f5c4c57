"""SARIF 2.1.0 and GitHub annotations for env findings, so CI can show them inline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from sophia_cli import __version__
from sophia_cli.core.env.findings import Finding, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/sophia/sophia-cli#sophia-env"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


class SarifResult(BaseModel):
    """One result, already redacted: rule, level, message and location."""

    rule_id: str
    level: str
    message: str
    file: str | None = None
    line: int | None = None
    fingerprint: str | None = None


def sarif_document(
    tool: str, rules: Mapping[str, str], results: Sequence[SarifResult]
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run of `tool` (rule id → description)."""
    used = sorted({r.rule_id for r in results} | set(rules))
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {"id": rule, "shortDescription": {"text": rules.get(rule, rule)}}
                            for rule in used
                        ],
                    }
                },
                "results": [_result(r, used.index(r.rule_id)) for r in results],
            }
        ],
    }


def _result(result: SarifResult, rule_index: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ruleId": result.rule_id,
        "ruleIndex": rule_index,
        "level": result.level,
        "message": {"text": result.message},
    }
    if result.file:
        region = {"startLine": result.line} if result.line else {}
        location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(result.file)}}
        if region:
            location["region"] = region
        body["locations"] = [{"physicalLocation": location}]
    if result.fingerprint:
        body["partialFingerprints"] = {"sophiaFingerprint/v1": result.fingerprint}
    return body


def artifact_uri(path: str) -> str:
    """A relative path as a SARIF URI reference: spaces, `#`, `%`, `:` and non-ASCII encoded."""
    return quote(path.replace("\\", "/"), safe="/-._~!$&'()*+,;=@")


def finding_results(findings: Sequence[Finding]) -> list[SarifResult]:
    """`env check` findings as SARIF results."""
    return [
        SarifResult(
            rule_id=f.code,
            level=_LEVELS[f.severity],
            message=_with_variable(f),
            file=f.file,
            line=f.line,
        )
        for f in findings
    ]


def github_annotations(findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands (`::error file=…,line=…::message`), one per finding."""
    lines = []
    for f in findings:
        kind = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}[
            f.severity
        ]
        props = [f"title={_escape_property(f.code)}"]
        if f.file:
            props.insert(0, f"file={_escape_property(f.file)}")
            if f.line:
                props.insert(1, f"line={f.line}")
        lines.append(f"::{kind} {','.join(props)}::{_escape_data(_with_variable(f))}")
    return "\n".join(lines) + ("\n" if lines else "")


def _with_variable(finding: Finding) -> str:
    return finding.message + (f" — {finding.hint}" if finding.hint else "")


def _escape_data(text: str) -> str:
    # As GitHub's toolkit escapes command data.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
