"""Find any part of a planted secret, beyond its public prefix, in a scanner's output.

Two checks, so that chance matches between random secrets and the output's own random
strings (fingerprints) do not pass for leaks:

- scoped: fragments of 6+ characters, searched only in the output records about the
  secret's own file (a JSON finding, a SARIF result, a text line naming the file);
- global: fragments of 12+ characters, searched in the whole output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.secret_corpus.builder import Label

SCOPED_MIN = 6
GLOBAL_MIN = 12
_PEM_MARKER = re.compile(r"-----(BEGIN|END)[A-Z0-9 ]*-----")


@dataclass(frozen=True)
class Leak:
    family: str
    file: str
    line: int
    output: str
    fragment: str


def private_pieces(label: Label) -> list[str]:
    """The secret's private runs: no public prefix, no PEM markers, split at whitespace/\\n."""
    pieces: list[str] = []
    for text in {label.secret, label.as_written} - {""}:
        if label.public_prefix and text.startswith(label.public_prefix):
            text = text[len(label.public_prefix) :]
        text = _PEM_MARKER.sub(" ", text).replace("\\n", " ")
        pieces += [p for p in text.split() if len(p) >= SCOPED_MIN]
    return pieces


def windows(text: str, size: int = GLOBAL_MIN) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def longest_shared(piece: str, haystack: str, minimum: int, seen: set[str] | None = None) -> str:
    """The longest substring of `piece` (at least `minimum` long) found in `haystack`.

    `seen`, the haystack's windows of length `minimum`, makes long haystacks cheap."""
    best = ""
    for start in range(len(piece) - minimum + 1):
        if seen is not None and piece[start : start + minimum] not in seen:
            continue
        size = max(minimum, len(best) + 1)
        while start + size <= len(piece) and piece[start : start + size] in haystack:
            best = piece[start : start + size]
            size += 1
    return best


def find_leaks(label: Label, output: str, scoped: str, whole: str, seen: set[str]) -> list[Leak]:
    """Leaks of `label` in one output: `scoped` is the text of the records about its file,
    `seen` the 12-character windows of the `whole` output."""
    leaks: list[Leak] = []
    for piece in private_pieces(label):
        fragment = longest_shared(piece, scoped, SCOPED_MIN) or longest_shared(
            piece, whole, GLOBAL_MIN, seen
        )
        if fragment:
            leaks.append(Leak(label.family, label.file, label.line, output, fragment))
    return leaks
