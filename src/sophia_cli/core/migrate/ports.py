"""The port matcher: tell a port (`localhost:8003`, `PORT=8003`, `EXPOSE 8003`) from a trap.

A number is considered only when it stands alone (not inside `18003`, `a8003f`, `8003_x`).
Then, on its line: clear non-port signatures (a version `1.8003`, a decimal `8003.5`, an IP
octet, a colour or issue `#8003`, a path segment `/8003`, a date or phone `555-8003`) leave it
alone silently; port contexts (host:port, a key ending in `port`, `--port`, `-p`, `EXPOSE`,
`listen`, a YAML list under `ports:`) make it a port; anything else is "needs review", which
is reported and never edited.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["port", "review"]

# Words that sit before `:` like a host but label something else (`order_id:8003`, `sha:…`).
_HOST_DENY = frozenset(
    "id pid uid gid code line page count total error status step build issue ticket version v "
    "size rev sha sha1 sha256 md5 timeout ref note see row col".split()
)
_HOSTNAME = (
    r"(?=[a-z0-9._-]*[a-z])[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*"
)
_HOST = rf"localhost|\d{{1,3}}(?:\.\d{{1,3}}){{3}}|\[[0-9A-Fa-f:.]+\]|\*|(?P<name>{_HOSTNAME})"
# `localhost:8003`, `http://api:8003`, `0.0.0.0:8003`, `[::]:8003`, `*:8003`.
_HOST_PORT = re.compile(rf"(?:^|[\s\"'`(=,@/\[<>{{;|])(?:{_HOST}):$")
_BARE_COLON = re.compile(r"(?:^|[\s\"'`(=\[,])[:]$")
# A key or flag naming a port: `port`, `API_PORT`, `server.port`, `containerPort`, `--port`,
# `-p`, `listen`, `EXPOSE`; then a separator (`=`, `:`, `: int =`, `,` as in getenv, spaces).
_KEY = (
    r"(?:(?<![A-Za-z0-9])(?:[A-Za-z0-9]+[_.\-])*(?:port|Port|PORT)[sS]?"
    r"|(?<![A-Za-z0-9])[a-z][a-z0-9]*Ports?"
    r"|(?<![A-Za-z0-9_-])(?:listen|LISTEN|EXPOSE|expose|--publish|-p))"
)
_SEP = r"[\"']?(?:\s*(?::=|=>|:-|==|!=|\?=|[:=,])\s*|\s*:\s*[A-Za-z_][\w\[\]|. ]*?\s*=\s*|\s+)"
_VALUE_PREFIX = r"[\[(\"'\s]*(?:[\w.\-\[\]]+:){0,2}$"
_KEYED = re.compile(_KEY + _SEP + _VALUE_PREFIX)
_KEYED_LIST = re.compile(_KEY + _SEP + r"[\[(](?:[\s\"']*[\w.:\-]+[\s\"']*,)+[\s\"']*$")
# `("0.0.0.0", 8003)` as passed to socket.bind.
_HOST_TUPLE = re.compile(r"[\"'](?:localhost|\d{1,3}(?:\.\d{1,3}){3}|::1?|)[\"']\s*,\s*$")
_EXPOSE_LIST = re.compile(r"^\s*EXPOSE\s+(?:\d+(?:/\w+)?\s+)+$")
# A YAML list item (`- "8003:8003"`) whose parent key is `ports:` or `expose:`.
_LIST_ITEM = re.compile(r"^(\s*)-\s*[\"']?(?:[\w.\-\[\]]+:){0,2}$")
_PORT_LIST_KEY = re.compile(r"^(?:ports?|expose|\w*[_-]ports?|\w*Ports?)$", re.IGNORECASE)
_HOST_SPACE = re.compile(r"(?:^|[\s\"'])(?:localhost|\d{1,3}(?:\.\d{1,3}){3})\s+$")
# Kubernetes env: `- name: API_PORT` then `value: "8003"` on the next line.
_VALUE_KEY = re.compile(r"^\s*value:\s*[\"']?$")
_NAME_PORT = re.compile(r"^\s*-?\s*name:\s*[\"']?\w*PORT\w*[\"']?\s*$", re.IGNORECASE)
_YAML_KEY = re.compile(r"^(\s*)(?:-\s+)?[\"']?([\w.\-]+)[\"']?\s*:\s*(?:#.*)?$")


@dataclass(frozen=True)
class PortSpot:
    """One standalone occurrence of a number judged as a port or as needing review."""

    start: int
    end: int
    port: int
    verdict: Verdict
    reason: str


def _token_pattern(port: int | None) -> re.Pattern[str]:
    number = str(port) if port is not None else r"[1-9]\d{1,4}"
    return re.compile(rf"(?<![0-9A-Za-z_]){number}(?![0-9A-Za-z_])")


def find_port_uses(text: str, port: int | None = None) -> Iterator[PortSpot]:
    """Every occurrence of `port` (or of any port-like number) that is a port or is doubtful."""
    if port is not None and str(port) not in text:
        return
    for match in _token_pattern(port).finditer(text):
        value = int(match.group())
        if value > 65535:
            continue
        judged = classify(text, match.start(), match.end())
        if judged is not None:
            yield PortSpot(match.start(), match.end(), value, judged[0], judged[1])


def line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Start and end offsets of the line holding text[start:end] (end excludes `\\r\\n`)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    if line_end > line_start and text[line_end - 1] == "\r":
        line_end -= 1
    return line_start, line_end


def classify(text: str, start: int, end: int) -> tuple[Verdict, str] | None:
    """Port, review, or None for a clear non-port, judged from the number's line."""
    line_start, line_end = line_bounds(text, start, end)
    prefix, suffix = text[line_start:start], text[end:line_end]
    not_port = _not_a_port(prefix, suffix)
    if not_port:
        return None
    reason = _port_context(text, line_start, prefix)
    if reason:
        return "port", reason
    if _weak_non_port(prefix, suffix):
        return None
    return "review", "bare number, no port context"


def _not_a_port(prefix: str, suffix: str) -> bool:
    """Versions, decimals, IP octets, colours, hex and issue numbers."""
    if prefix.endswith(".") and len(prefix) > 1 and prefix[-2].isalnum():
        return True
    if re.match(r"[.,]\d", suffix):
        return True
    if re.search(r"[0-9A-Fa-f]-$", prefix) and re.match(r"-[0-9A-Fa-f]", suffix):
        return True  # a UUID or another dashed identifier
    return prefix.endswith(("#", "0x", "0X", "\\x", "&#"))


def _weak_non_port(prefix: str, suffix: str) -> bool:
    """Path segments, money, dates, phone numbers and ranges of plain numbers."""
    if prefix.endswith(("/", "$", "€", "£", "+", "~", "^", "@")):
        return True
    if re.search(r"(?:\w-|\d[–/ ])$", prefix) or re.match(r"[-–/]\d", suffix):
        return True
    return re.match(r"\s?(?:%|x\b|€)", suffix) is not None


def _port_context(text: str, line_start: int, prefix: str) -> str | None:
    """Why the number at the end of `prefix` is a port, or None."""
    host = _HOST_PORT.search(prefix)
    if host and re.split(r"[._-]", host.group("name") or "")[-1] not in _HOST_DENY:
        return "host:port"
    if _KEYED.search(prefix) or _KEYED_LIST.search(prefix):
        return "port key or flag"
    if _HOST_TUPLE.search(prefix):
        return "(host, port)"
    if "port-forward" in prefix:
        return "port-forward"
    if _EXPOSE_LIST.match(prefix):
        return "EXPOSE"
    if _BARE_COLON.search(prefix):
        return ":port"
    if _HOST_SPACE.search(prefix):
        return "host port"
    if _VALUE_KEY.match(prefix) and _NAME_PORT.match(_previous_line(text, line_start)):
        return "value of a *PORT variable"
    item = _LIST_ITEM.match(prefix)
    if item:
        key = _parent_key(text, line_start, len(item.group(1)))
        if key is not None and _PORT_LIST_KEY.match(key):
            return f"item of {key}:"
    return None


def _previous_line(text: str, line_start: int) -> str:
    """The line just above the one starting at line_start ('' on the first line)."""
    if line_start == 0:
        return ""
    above = text.rfind("\n", 0, line_start - 1) + 1
    return text[above : line_start - 1].rstrip("\r")


def _parent_key(text: str, line_start: int, indent: int) -> str | None:
    """The YAML key owning a list item that starts at line_start with this indent."""
    position = line_start - 1
    for _ in range(64):
        if position <= 0:
            return None
        above_start = text.rfind("\n", 0, position) + 1
        line = text[above_start:position].rstrip("\r")
        position = above_start - 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        line_indent = len(line) - len(line.lstrip())
        if line_indent > indent or (line_indent == indent and stripped.startswith("-")):
            continue
        key = _YAML_KEY.match(line)
        return key.group(2) if key else None
    return None


def replace_ports(text: str, from_port: int, to_port: int) -> tuple[str, int, list[PortSpot]]:
    """Text with every port use replaced, the number of edits, and the doubtful spots."""
    pieces: list[str] = []
    review: list[PortSpot] = []
    last, edits = 0, 0
    for spot in find_port_uses(text, from_port):
        if spot.verdict == "review":
            review.append(spot)
            continue
        pieces.append(text[last : spot.start])
        pieces.append(str(to_port))
        last, edits = spot.end, edits + 1
    pieces.append(text[last:])
    return "".join(pieces), edits, review
