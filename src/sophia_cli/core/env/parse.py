"""Read env files exactly as python-dotenv does, keeping the line of every key.

python-dotenv's own parser (`dotenv.parser.parse_stream`) does the reading, so quotes,
escapes, `export`, multi-line values, inline comments, BOM and CRLF behave as in every tool
built on it. We add what it throws away: line numbers per key, unparsable lines as data, and
the hazards other dotenv dialects read differently.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from dotenv.parser import Binding, parse_stream
from dotenv.variables import parse_variables
from pydantic import BaseModel

# Where the value starts in a binding's original text: after `export`, the key and `=`.
_VALUE_START = re.compile(r"\s*(?:export\s+)?(?:'[^']+'|[^=#\s]+)\s*=[^\S\r\n]*")
_COLON_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*:\s")
_BARE_VARIABLE = re.compile(r"(?<!\\)\$[A-Za-z_]")
_HASH_WITHOUT_SPACE = re.compile(r"\S#")


class Entry(BaseModel):
    """One `KEY=value` assignment as written in a file."""

    key: str
    raw: str | None  # after unquoting and escapes, before interpolation; None for a bare `KEY`
    line: int
    quote: str | None  # "'", '"' or None for unquoted
    exported: bool


class Hazard(BaseModel):
    """A line other dotenv dialects (shells, docker compose, node) read differently."""

    code: str
    message: str
    line: int
    key: str | None = None


class EnvFile(BaseModel):
    """A parsed env file: assignments in order, lines that did not parse, and hazards."""

    path: str
    entries: list[Entry]
    invalid_lines: list[int]
    hazards: list[Hazard]

    def last_values(self) -> dict[str, Entry]:
        """The entry that wins for each key (the last one, as in python-dotenv)."""
        return {entry.key: entry for entry in self.entries}

    def duplicates(self) -> dict[str, list[int]]:
        """Keys assigned more than once, with every line that assigns them."""
        lines: dict[str, list[int]] = {}
        for entry in self.entries:
            lines.setdefault(entry.key, []).append(entry.line)
        return {key: found for key, found in lines.items() if len(found) > 1}


def parse_text(text: str, path: str = "<string>") -> EnvFile:
    """Parse env-file text; never raises on bad lines (they are reported instead)."""
    entries: list[Entry] = []
    invalid: list[int] = []
    hazards: list[Hazard] = []
    for binding in parse_stream(io.StringIO(text)):
        line = _first_line(binding)
        if binding.error:
            invalid.append(line)
            hazards.extend(_colon_hazard(binding.original.string, line))
            continue
        if binding.key is None:
            continue
        entry = _entry(binding, line)
        entries.append(entry)
        hazards.extend(_value_hazards(entry, binding.original.string))
    return EnvFile(path=path, entries=entries, invalid_lines=invalid, hazards=hazards)


def parse_file(path: Path) -> EnvFile:
    """Parse an env file as UTF-8 (python-dotenv's default); undecodable bytes are replaced."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    # python-dotenv opens files in text mode, which turns CRLF and CR into LF.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return parse_text(text, str(path))


def interpolate(
    entries: Iterable[tuple[str, str | None]], environ: Mapping[str, str]
) -> dict[str, str | None]:
    """Expand `${VAR}` and `${VAR:-default}` as `dotenv_values` does (file values win).

    Same algorithm as `dotenv.main.resolve_variables(override=True)`, but with the
    environment passed in rather than read from `os.environ`, so layers stay testable.
    """
    resolved: dict[str, str | None] = {}
    for key, value in entries:
        if value is None:
            resolved[key] = None
            continue
        scope: dict[str, str | None] = {**environ, **resolved}
        resolved[key] = "".join(atom.resolve(scope) for atom in parse_variables(value))
    return resolved


def file_values(env_file: EnvFile, environ: Mapping[str, str]) -> dict[str, str | None]:
    """The values python-dotenv's `dotenv_values` would give for this file."""
    return interpolate(((e.key, e.raw) for e in env_file.entries), environ)


def _first_line(binding: Binding) -> int:
    # The parser's mark includes blank lines before the binding; skip them.
    original = binding.original
    leading = original.string[: len(original.string) - len(original.string.lstrip())]
    return original.line + leading.count("\n")


def _entry(binding: Binding, line: int) -> Entry:
    text = binding.original.string.lstrip()
    match = _VALUE_START.match(text)
    first = text[match.end() : match.end() + 1] if match else ""
    assert binding.key is not None
    return Entry(
        key=binding.key,
        raw=binding.value,
        line=line,
        quote=first if first in ("'", '"') and binding.value is not None else None,
        exported=text.startswith("export ") or text.startswith("export\t"),
    )


def _colon_hazard(text: str, line: int) -> list[Hazard]:
    if not _COLON_ASSIGNMENT.match(text.lstrip("\n")):
        return []
    return [
        Hazard(
            code="colon-assignment",
            message="`KEY: value` is YAML style; python-dotenv ignores this line, use `KEY=value`",
            line=line,
        )
    ]


def _value_hazards(entry: Entry, original: str) -> list[Hazard]:
    raw = entry.raw or ""
    found: list[tuple[str, str]] = []
    if entry.quote == "'" and "$" in raw:
        found.append(
            (
                "dollar-in-single-quotes",
                "python-dotenv expands `${...}` inside single quotes; "
                "shells and docker compose keep it literal",
            )
        )
    if entry.quote != "'" and _BARE_VARIABLE.search(raw):
        found.append(
            (
                "bare-variable",
                "`$VAR` without braces is kept literally by python-dotenv but "
                "expanded by shells and docker compose; write `${VAR}`",
            )
        )
    if entry.quote is None and _HASH_WITHOUT_SPACE.search(raw):
        found.append(
            (
                "hash-without-space",
                "`#` without a space before it is part of the value here "
                "but starts a comment in other dialects; quote the value",
            )
        )
    if (
        entry.quote is None
        and "=" in original.split("\n", 1)[0]
        and _spaces_around_equals(original)
    ):
        found.append(
            (
                "spaces-around-equals",
                "spaces around `=` are accepted here but not by shells "
                "or docker compose; write `KEY=value`",
            )
        )
    return [Hazard(code=c, message=m, line=entry.line, key=entry.key) for c, m in found]


def _spaces_around_equals(original: str) -> bool:
    first = original.lstrip().split("\n", 1)[0]
    key_part, _, _ = first.partition("=")
    return key_part != key_part.rstrip()
