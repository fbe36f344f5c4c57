"""Words that shape a question beyond metric, breakdown and period: thresholds ("deals over
50k", "more than 10 deals"), exclusions ("excluding Acme", "not in SMB"), missing values
("without an owner"), shares ("what share of …") and lists ("list the deals we lost")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sophia_cli.core.bi.vocabulary import Words

# Longest first, so "more than" is read before "more" could be.
COMPARATORS = {
    "more than": ">", "greater than": ">", "bigger than": ">", "larger than": ">",
    "longer than": ">", "higher than": ">", "over": ">", "above": ">", "exceeding": ">",
    "at least": ">=", "no less than": ">=", "less than": "<", "fewer than": "<",
    "smaller than": "<", "shorter than": "<", "lower than": "<", "under": "<", "below": "<",
    "at most": "<=", "no more than": "<=",
}  # fmt: skip
_NUMBER = re.compile(r"^\$?(\d+(?:\.\d+)?)(k|m|mm|bn|b)?\$?$")
_SCALE = {None: 1.0, "k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}
EXCLUDING = {"excluding", "except", "not", "without", "minus", "exclude", "ignoring"}
EXCLUDING_PAIRS = {("other", "than"), ("apart", "from"), ("but", "not"), ("leaving", "out")}
MISSING = {"without", "no", "missing", "lacking"}
SHARE = {"share", "percentage", "percent", "proportion", "fraction", "portion"}
ARTICLES = {"a", "an", "the", "any"}


@dataclass
class Threshold:
    """A comparator and a number; `after` is the index of the first word past the number."""

    op: str
    value: float
    after: int
    money: bool = False  # "$50k", "2m": an amount, never a count of deals


def thresholds(words: Words) -> list[Threshold]:
    """Every "over 50k" / "more than 10" in the question, its words taken."""
    found: list[Threshold] = []
    ordered = sorted(COMPARATORS, key=lambda p: -len(p.split()))
    for i in range(len(words.raw)):
        for phrase in ordered:
            parts = phrase.split()
            j = i + len(parts)
            if words.raw[i:j] != parts or j >= len(words.raw) or not words.free(i, j + 1):
                continue
            number = _NUMBER.match(words.raw[j])
            if number is None:
                continue
            value = float(number[1]) * _SCALE[number[2]]
            words.take(i, j + 1, "threshold")
            money = bool(number[2]) or "$" in words.raw[j]
            found.append(Threshold(COMPARATORS[phrase], value, j + 1, money))
            break
    return found


def excluded_before(words: Words, start: int) -> bool:
    """Whether the words before a name say to leave it out ("excluding", "not in the");
    those words are taken."""
    i = start - 1
    while i >= 0 and words.raw[i] in ARTICLES | {"in", "for", "from", "of"}:
        i -= 1
    if i >= 0 and not words.used[i] and words.raw[i] in EXCLUDING:
        words.take(i, start, "exclude")
        return True
    if i >= 1 and (words.raw[i - 1], words.raw[i]) in EXCLUDING_PAIRS and words.free(i - 1, i + 1):
        words.take(i - 1, start, "exclude")
        return True
    return False


def missing_at(words: Words, i: int) -> int | None:
    """Index of the word after "without an"/"with no" at `i`, or None."""
    if words.used[i] or words.raw[i] not in MISSING:
        return None
    j = i + 1
    while j < len(words.raw) and words.raw[j] in ARTICLES:
        j += 1
    return j if j < len(words.raw) else None


def share_words(words: Words) -> bool:
    """Whether the question asks for a share ("what share of", "percentage of", "came from")."""
    asked = False
    for i, word in enumerate(words.raw):
        if word in SHARE and not words.used[i]:
            end = i + 2 if i + 1 < len(words.raw) and words.raw[i + 1] == "of" else i + 1
            words.take(i, end, "share")
            asked = True
    if asked:
        for i, word in enumerate(words.raw):
            if word in ("came", "come", "comes", "coming") and not words.used[i]:
                words.take(i, i + 1, "share")
    return asked
