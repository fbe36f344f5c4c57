"""`migrate ports --scan`: every port a tree references, who claims it, what listens now."""

from __future__ import annotations

import re
import socket
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sophia_cli.core.errors import NotFoundError
from sophia_cli.core.migrate.files import (
    Skipped,
    candidate_files,
    glob_matcher,
    iter_candidate_files,
    read_source,
)
from sophia_cli.core.migrate.models import LegacyReport, PortScan, PortSummary, PortUse
from sophia_cli.core.migrate.plan import DEFAULT_GLOBS
from sophia_cli.core.migrate.ports import LineIndex, find_port_uses

_PROBE_TIMEOUT_S = 0.3
_SERVICE = re.compile(r"^  ([\w.-]+):\s*$")
_ENV_PORT = re.compile(r"^\s*(?:export\s+)?(\w*PORT\w*)\s*=\s*[\"']?(\d+)")
_MAPPING = re.compile(r"^\s*-\s*[\"']?(?:[\d.]+:)?(\d+):\d+")


def is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port right now."""
    try:
        with socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def _owner(rel: str, text: str, start: int, lines: LineIndex) -> str | None:
    """Who claims the port at `start`: an env variable, or a compose service's host port."""
    line_start, line_end = lines.bounds(start)
    line = text[line_start:line_end]
    name = rel.rsplit("/", 1)[-1]
    if name.startswith(".env") or name.endswith(".env"):
        env = _ENV_PORT.match(line)
        return f"{env.group(1)} in {rel}" if env and env.start(2) == start - line_start else None
    if "compose" in name:
        mapping = _MAPPING.match(line)
        if mapping and mapping.start(1) == start - line_start:
            end = line_start - 1
            while end > 0:
                begin = text.rfind("\n", 0, end) + 1
                service = _SERVICE.match(text[begin:end])
                if service:
                    return f"service {service.group(1)}"
                end = begin - 1
    return None


def scan_ports(root: Path) -> PortScan:
    """List every port use in the tree (file:line), conflicts, and live listeners."""
    if not root.is_dir():
        raise NotFoundError(f"{root} is not a folder", hint="Pass the root of the tree to scan.")
    root = root.resolve()
    matches = glob_matcher(DEFAULT_GLOBS)
    uses: list[PortUse] = []
    scanned = 0
    for rel in candidate_files(root):
        if not matches(rel):
            continue
        source = read_source(root, rel)
        if source is None or isinstance(source, Skipped):
            continue
        scanned += 1
        lines = LineIndex(source.text)
        for spot in find_port_uses(source.text):
            if spot.verdict != "port":
                continue
            line_start, line_end = lines.bounds(spot.start)
            excerpt_start = max(line_start, spot.start - 100)
            uses.append(
                PortUse(
                    port=spot.port,
                    path=rel,
                    line=lines.number(spot.start),
                    text=source.text[excerpt_start : min(line_end, spot.end + 100)].strip(),
                    owner=_owner(rel, source.text, spot.start, lines),
                )
            )
    return PortScan(root=str(root), files_scanned=scanned, ports=_summaries(uses), uses=uses)


def _summaries(uses: list[PortUse]) -> list[PortSummary]:
    by_port: dict[int, list[PortUse]] = defaultdict(list)
    for use in uses:
        by_port[use.port].append(use)
    ports = sorted(by_port)
    with ThreadPoolExecutor(max_workers=16) as pool:
        listening = dict(zip(ports, pool.map(is_listening, ports), strict=True))
    result = []
    for port in ports:
        claims = sorted({u.owner for u in by_port[port] if u.owner})
        env_by_file: dict[str, set[str]] = defaultdict(set)
        for claim in claims:
            if " in " in claim:
                name, where = claim.split(" in ", 1)
                env_by_file[where].add(name)
        services = [c for c in claims if c.startswith("service ")]
        result.append(
            PortSummary(
                port=port,
                uses=len(by_port[port]),
                files=sorted({u.path for u in by_port[port]}),
                listening=listening[port],
                claimed_by=claims,
                conflict=len(services) > 1 or any(len(n) > 1 for n in env_by_file.values()),
            )
        )
    return result


_OPENROUTER = re.compile(r"OPENROUTER_[A-Z_]+|openrouter\.ai|openrouter/[\w.-]+/|\bOpenRouter\b")


def legacy_references(
    root: Path, legacy_port: int, *, max_files: int = 5000, max_seconds: float | None = None
) -> LegacyReport:
    """Where a tree still uses the legacy port or OpenRouter (for `sophia doctor`).

    Stops after `max_files` matching files or `max_seconds` (walking included), marking
    the report truncated: doctor run from a large folder must still answer in seconds.
    """
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    root = root.resolve()
    matches = glob_matcher(DEFAULT_GLOBS)
    report = LegacyReport(root=str(root))
    for rel in iter_candidate_files(root):
        if deadline is not None and time.monotonic() > deadline:
            report.truncated = True
            break
        if not matches(rel):
            continue
        if report.files_scanned >= max_files:
            report.truncated = True
            break
        source = read_source(root, rel)
        if source is None or isinstance(source, Skipped):
            continue
        report.files_scanned += 1
        ports = sum(1 for s in find_port_uses(source.text, legacy_port) if s.verdict == "port")
        routers = len(_OPENROUTER.findall(source.text))
        report.port_uses += ports
        report.openrouter += routers
        if ports or routers:
            report.files.append(rel)
    return report
