"""`sophia env scan`: find hard-coded secrets in a tree, redacted and fingerprinted."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from pydantic import BaseModel

from sophia_cli.core.env.mask import mask_secret
from sophia_cli.core.env.scan.baseline import Baseline, BaselineEntry, accepted_by
from sophia_cli.core.env.scan.files import candidate_files, read_text
from sophia_cli.core.env.scan.judge import accept
from sophia_cli.core.env.scan.rules import RULES, RULES_BY_ID
from sophia_cli.core.errors import InputError

ALLOW_MARKER = "sophia: allow-secret"
_EXCERPT_WIDTH = 120


class SecretFinding(BaseModel):
    """One hard-coded secret: where, which rule, a redacted excerpt and a stable fingerprint."""

    file: str
    line: int
    rule: str
    excerpt: str
    fingerprint: str
    commit: str | None = None  # with --history: the commit that added it


class ScanReport(BaseModel):
    """What a scan found; `findings` are the new ones (not baselined, not allowed inline)."""

    root: str
    files_scanned: int
    findings: list[SecretFinding]
    baselined: int
    allowed: int
    duration_s: float

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0


class _Match(BaseModel):
    rule: str
    line: int
    start: int
    end: int
    secret: str


def scan_text(text: str) -> list[tuple[str, int, str]]:
    """(rule, line, secret) for every secret in `text`, one per span (best rule wins)."""
    return [(m.rule, m.line, m.secret) for m in _matches(text)]


def scan_tree(root: Path, baseline: Baseline | None = None) -> ScanReport:
    """Scan every candidate file under `root`."""
    if not root.exists():
        raise InputError(f"{root} does not exist", hint="Pass a folder or a file to scan.")
    started = time.perf_counter()
    paths = [root] if root.is_file() else list(candidate_files(root))
    found: list[SecretFinding] = []
    files = allowed = 0
    for path in paths:
        text = read_text(path)
        if text is None:
            continue
        files += 1
        relative = path.name if root.is_file() else path.relative_to(root).as_posix()
        for finding, inline in file_findings(relative, text):
            allowed += inline
            if not inline:
                found.append(finding)
    return report_of(str(root), files, found, allowed, baseline, started)


def report_of(
    root: str,
    files: int,
    found: list[SecretFinding],
    allowed: int,
    baseline: Baseline | None,
    started: float,
) -> ScanReport:
    """The report of a scan: findings the baseline does not accept, and the counts."""
    verdicts = accepted_by(baseline, found) if baseline else [False] * len(found)
    return ScanReport(
        root=root,
        files_scanned=files,
        findings=[f for f, ok in zip(found, verdicts, strict=True) if not ok],
        baselined=sum(verdicts),
        allowed=allowed,
        duration_s=round(time.perf_counter() - started, 3),
    )


def baseline_of(report: ScanReport) -> Baseline:
    """A baseline accepting every finding of `report`."""
    return Baseline(
        entries=[
            BaselineEntry(fingerprint=f.fingerprint, rule=f.rule, file=f.file)
            for f in report.findings
        ]
    )


def fingerprint(rule: str, secret: str) -> str:
    """Stable across line moves and renames: a salted hash of rule and secret, never the secret."""
    digest = hashlib.sha256(f"sophia-scan/v2\0{rule}\0{secret}".encode()).hexdigest()
    return digest[:20]


def file_findings(relative: str, text: str) -> list[tuple[SecretFinding, bool]]:
    """Every finding of one file's text, and whether its line allows it inline."""
    matches = _matches(text)
    if not matches:
        return []
    lines = text.split("\n")
    line_starts = _line_starts(lines)
    results = []
    for match in matches:
        line_text = lines[match.line - 1]
        offset = line_starts[match.line - 1]
        same_line = [
            (m.start - offset, min(m.end - offset, len(line_text)), m.secret, _extends(m.rule))
            for m in matches
            if m.line == match.line
        ]
        results.append(
            (
                SecretFinding(
                    file=relative,
                    line=match.line,
                    rule=match.rule,
                    excerpt=redact_line(line_text, same_line),
                    fingerprint=fingerprint(match.rule, match.secret),
                ),
                ALLOW_MARKER in line_text,
            )
        )
    return results


def _extends(rule: str) -> bool:
    return RULES_BY_ID[rule].runs_on


def _line_starts(lines: list[str]) -> list[int]:
    starts, position = [], 0
    for line in lines:
        starts.append(position)
        position += len(line) + 1
    return starts


def _matches(text: str) -> list[_Match]:
    found: list[_Match] = []
    taken: list[tuple[int, int]] = []
    lowered = text.lower()
    for rule in RULES:  # provider rules come first, so they win over the generic one
        if rule.keywords and not any(k in text for k in rule.keywords):
            continue
        use_lower = rule.lowercase is not None and len(lowered) == len(text)
        pattern = rule.lowercase if use_lower and rule.lowercase else rule.pattern
        for m in pattern.finditer(lowered if use_lower else text):
            start, end = m.span("secret")
            secret = text[start:end]
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            if not accept(rule, secret, _line_at(text, start)):
                continue
            taken.append((start, end))
            line = text.count("\n", 0, start) + 1
            found.append(_Match(rule=rule.id, line=line, start=start, end=end, secret=secret))
    return sorted(found, key=lambda m: (m.line, m.start))


def _line_at(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    return text[start : end if end != -1 else len(text)]


_QUOTES = "\"'`"


Span = tuple[int, int, str, bool]  # start, end, secret, whether the value may run on


def redact_line(
    line: str, spans: list[Span], *, strip: bool = True, width: int | None = None
) -> str:
    """The line with each secret span masked to a fixed `•••` (after a known public prefix).

    A generic rule's match may stop short of the value (at a `$` or `!` inside a password),
    so for those the mask runs on to the value's closing quote, or to the next whitespace
    when unquoted: no character of the secret survives.
    """
    pieces: list[str] = []
    last = 0
    for start, end, secret, runs_on in sorted(spans):
        if start < last:
            continue
        pieces += [line[last:start], mask_secret(secret.split("\n", 1)[0])]
        last = _value_end(line, start, end) if runs_on else end
    pieces.append(line[last:])
    excerpt = "".join(pieces)
    excerpt = excerpt.strip() if strip else excerpt
    limit = width or _EXCERPT_WIDTH
    if width is None and not strip:
        return excerpt
    return excerpt if len(excerpt) <= limit else excerpt[: limit - 1] + "…"


def _value_end(line: str, start: int, end: int) -> int:
    """Where the value holding line[start:end] ends: its closing quote, else whitespace."""
    opener = line[start - 1] if start > 0 else ""
    if opener in _QUOTES and opener:
        close = line.find(opener, end)
        while close > 0 and line[close - 1] == "\\":
            close = line.find(opener, close + 1)
        return len(line) if close == -1 else close
    position = end
    while position < len(line) and not line[position].isspace():
        position += 1
    return position


def redact_secrets(text: str) -> str:
    """`text` for display, every secret the rules find on a line masked (diffs, excerpts)."""
    if not text:
        return text
    out = []
    for line in text.split("\n"):
        found = _matches(line)
        if found:
            spans = [(m.start, m.end, m.secret, _extends(m.rule)) for m in found]
            line = redact_line(line, spans, strip=False, width=None)
        out.append(line)
    return "\n".join(out)
