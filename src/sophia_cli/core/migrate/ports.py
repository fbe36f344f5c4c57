"""The port matcher: tell a port (`localhost:8003`, `PORT=8003`, `EXPOSE 8003`) from a trap.

A number is considered only when it stands alone (not inside `18003`, `a8003f`, `8003_x`).
Then, on its line: clear non-port signatures (a version `1.8003`, a decimal `8003.5`, an IP
octet, a colour or issue `#8003`, a path segment `/8003`, a date or phone `555-8003`) leave it
alone silently; port contexts (host:port, a key ending in `port`, `--port`, `-p`, `EXPOSE`,
`listen`, a YAML list under `ports:`) make it a port; anything else is "needs review", which
is reported and never edited. A host may be a template (`{host}` in an f-string, `${HOST}`,
`{{ host }}`, `%(host)s`); `main.py:8003` and `line 8003` are file positions, not ports.

Each number is judged from a bounded window of its line, so the work is linear in the size
of the file even when the file is one 100 KB line of JSON.
"""

from __future__ import annotations

import re
from bisect import bisect_right
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
# `{host}` (f-strings, str.format), `{{ host }}` (Jinja), `${HOST}`, `$HOST`, `%(host)s`.
_TEMPLATE_HOST = (
    r"\{\{[^{}\n]{1,80}\}\}|\{[^{}\n]{0,80}\}|\$\{[^{}\n]{1,80}\}|\$[A-Za-z_]\w*|%\(\w+\)s"
)
_HOST = (
    rf"localhost|\d{{1,3}}(?:\.\d{{1,3}}){{3}}|\[[0-9A-Fa-f:.]+\]|\*|{_TEMPLATE_HOST}"
    rf"|(?P<name>{_HOSTNAME})"
)
# `localhost:8003`, `http://api:8003`, `0.0.0.0:8003`, `[::]:8003`, `*:8003`.
_HOST_PORT = re.compile(rf"(?:^|[\s\"'`(=,@/\[<>{{;|]|\$\{{\w+:-?)(?:{_HOST}):$")
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


# `main.py:8003`, `src/app.ts:8003:12`, `File "x.py", line 8003`: positions in files.
_FILE_EXT = (
    r"py|pyi|pyx|js|mjs|cjs|jsx|ts|tsx|go|java|kt|kts|c|h|cpp|hpp|rb|php|swift|scala"
    r"|rst|txt|json|ya?ml|toml|ini|cfg|html?|css|scss|vue|svelte|bash|log|sql|lua|exs"
    r"|erl|jl|dart|j2|jinja2?|ipynb|lock"
)
# Extensions that are also top-level domains (`.md`, `.sh`, `.rs`, `.pl`): a person decides.
_TLD_EXT = r"md|sh|rs|pl|pm|r|cc|tf|ly|ex|cs"
_FILE_LINE = re.compile(rf"[\w\-/]\.(?:{_FILE_EXT})(?:\\?[\"']?,\s*line\s+|:)$", re.IGNORECASE)
_MAYBE_FILE_LINE = re.compile(rf"[\w\-/]\.(?:{_TLD_EXT}):$", re.IGNORECASE)
_LINE_WORD = re.compile(r"(?:^|[^\w])(?:line|lines|ln|row|col|column)\s*[:#]?\s*$", re.IGNORECASE)
_HOST_WINDOW = 160  # a host name longer than this before `:port` is not judged a host
_KEY_WINDOW = 160  # a port key and its list of values sit this close to the number
_KEY_HINTS = ("port", "Port", "PORT", "listen", "LISTEN", "EXPOSE", "expose", "-p")
_WINDOW = 256  # characters of the line before a number that can decide its context
_TRUNCATED = "\0"  # stands for the cut-off start of a long line: never matches `^\s*…`


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
    lines = LineIndex(text)
    for match in _token_pattern(port).finditer(text):
        value = int(match.group())
        if value > 65535:
            continue
        line_start, line_end = lines.bounds(match.start())
        judged = classify(text, match.start(), match.end(), line_start, line_end)
        if judged is not None:
            yield PortSpot(match.start(), match.end(), value, judged[0], judged[1])


class LineIndex:
    """Line numbers and bounds of offsets in one text, each answered in O(log lines)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]

    def number(self, offset: int) -> int:
        """The 1-based line holding `offset`."""
        return bisect_right(self.newlines, offset - 1) + 1

    def bounds(self, offset: int) -> tuple[int, int]:
        """Start and end of the line holding `offset` (end excludes `\\r\\n`)."""
        index = bisect_right(self.newlines, offset - 1)
        start = self.newlines[index - 1] + 1 if index else 0
        end = self.newlines[index] if index < len(self.newlines) else len(self.text)
        if end > start and self.text[end - 1] == "\r":
            end -= 1
        return start, end


def line_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Start and end offsets of the line holding text[start:end] (end excludes `\\r\\n`)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    if line_end > line_start and text[line_end - 1] == "\r":
        line_end -= 1
    return line_start, line_end


def classify(
    text: str, start: int, end: int, line_start: int, line_end: int
) -> tuple[Verdict, str] | None:
    """Port, review, or None for a clear non-port, judged from a window of the number's line."""
    window_start = max(line_start, start - _WINDOW)
    prefix = text[window_start:start]
    if window_start > line_start:
        prefix = _TRUNCATED + prefix
    suffix = text[end : min(line_end, end + 64)]
    if _not_a_port(prefix, suffix):
        return None
    tail = prefix[-48:]
    if tail.endswith(":") or "line" in tail.lower():
        if _FILE_LINE.search(tail):
            return None
        if _MAYBE_FILE_LINE.search(tail):
            return "review", "file:line or host:port"
    if _LINE_WORD.search(prefix[-16:]):
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
    """Why the number at the end of `prefix` is a port, or None.

    Cheap tests on the prefix's last characters come first: most numbers in a file are
    not ports, and the regexes below are the costly part of a scan.
    """
    colon = prefix.endswith(":")
    host = _HOST_PORT.search(prefix[-_HOST_WINDOW:]) if colon else None
    if host and re.split(r"[._-]", host.group("name") or "")[-1] not in _HOST_DENY:
        return "host:port"
    near = prefix[-_KEY_WINDOW:]
    keyed = any(hint in near for hint in _KEY_HINTS)
    if keyed and (_KEYED.search(near[-96:]) or _KEYED_LIST.search(near)):
        return "port key or flag"
    if "," in prefix[-4:] and _HOST_TUPLE.search(prefix[-64:]):
        return "(host, port)"
    if "port-forward" in prefix:
        return "port-forward"
    if "EXPOSE" in prefix and _EXPOSE_LIST.match(prefix):
        return "EXPOSE"
    if colon and _BARE_COLON.search(prefix[-3:]):
        return ":port"
    if prefix.endswith((" ", "\t")) and _HOST_SPACE.search(prefix[-64:]):
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
