"""Words of questions: normalising, stemming, number words, stop words and typo repair."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
    "hundred": 100, "dozen": 12, "a couple of": 2, "a couple": 2, "couple of": 2,
}  # fmt: skip
_IRREGULAR = {
    "win": "won", "wins": "won", "winning": "won", "lose": "lost", "losing": "lost",
    "loss": "lost", "losses": "lost", "done": "completed", "finished": "completed",
    "finish": "completed", "complete": "completed", "completing": "completed",
    "close": "closed", "closes": "closed", "closing": "closing", "closed": "closed",
    "create": "created", "creates": "created", "creating": "created", "open": "open",
    "opened": "opened", "booking": "booked", "book": "booked", "books": "booked",
    "sign": "signed", "signing": "signed", "signs": "signed", "due": "due", "avg": "average",
    "add": "added", "adds": "added", "adding": "added", "start": "started",
    "starts": "started", "starting": "started",
    "mean": "average",
    "people": "people", "opps": "opportunity", "opp": "opportunity", "convos": "conversation",
    "minutes": "minute", "mins": "minute", "min": "minute", "sales": "sales", "status": "status",
    "this": "this", "was": "was", "has": "has", "is": "is", "its": "its", "us": "us",
}  # fmt: skip
STOPWORDS = {
    "a", "an", "the", "of", "in", "on", "at", "for", "to", "from", "with", "by", "per", "and",
    "or", "what", "whats", "which", "who", "how", "many", "much", "is", "are", "was", "were",
    "be", "been", "did", "do", "does", "we", "our", "us", "i", "me", "my", "you", "your",
    "show", "give", "list", "tell", "get", "find", "please", "can", "could", "would",
    "total", "number", "count", "all", "each", "every", "have", "has", "had",
    "there", "it", "its", "this", "that", "these", "those", "so", "far", "make", "made",
    "generate", "generated", "bring", "brought", "overall", "current", "currently",
    "during", "within", "time", "period", "across", "about", "up", "then", "ha",
    "split", "broken", "down", "breakdown", "group", "grouped", "some", "any", "as",
    "vs", "versus", "compare", "compared", "what's", "over", "than", "them", "they",
    "team's", "got", "see", "report", "sitting", "still", "stand", "standing",
    "whole", "entire", "altogether", "right", "now", "today's",
}  # fmt: skip


def stem(word: str) -> str:
    """A crude, predictable stem: irregular forms mapped, plurals made singular."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def numbers_to_digits(text: str) -> str:
    """`top five` → `top 5`, `past two weeks` → `past 2 weeks`."""
    for phrase in sorted(NUMBER_WORDS, key=len, reverse=True):
        text = re.sub(rf"\b{phrase}\b", str(NUMBER_WORDS[phrase]), text)
    return text


def normalise_question(question: str) -> str:
    """Lower case, numbers as digits, `#sales` → `channel sales`, punctuation dropped."""
    text = question.lower().replace("\u2019", "'")
    # A "#" standing alone is "number of" ("# of deals", "# open tasks"); "#sales" is a channel.
    text = re.sub(r"(?<![\w#])#(?:\s+of)?(?=\s)", " number of ", text)
    text = re.sub(r"\bppl\b", "people", text)
    text = re.sub(r"#([\w-]+)", r" channel \1 ", text)
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    # Phrasings of one date: "expected to close" is the (expected) close date, no status.
    text = re.sub(r"\b(?:expected|due|set|scheduled|slated) to close\b", "closing", text)
    text = re.sub(r"[?!;:\"()\[\]{}]|,|\.(?!\d)", " ", text)
    text = numbers_to_digits(text)
    return " ".join(text.split())


def repair(word: str, vocabulary: set[str]) -> str:
    """The vocabulary word a typo most likely meant, or the word itself."""
    if len(word) < 4 or word in vocabulary or word in STOPWORDS or word.isdigit():
        return word
    close = difflib.get_close_matches(word, sorted(vocabulary), n=1, cutoff=0.8)
    return close[0] if close else word


GRAIN_WORDS = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter",
               "yearly": "year", "annually": "year", "annual": "year"}  # fmt: skip
GRAINS = ("day", "week", "month", "quarter", "year")
RANK_WORDS = {"top": (True, 5), "bottom": (False, 5), "best": (True, 1), "worst": (False, 1),
              "most": (True, 1), "least": (False, 1), "highest": (True, 1), "lowest": (False, 1),
              "biggest": (True, 1), "largest": (True, 1), "smallest": (False, 1),
              "fewest": (False, 1), "busiest": (True, 1), "quietest": (False, 1)}  # fmt: skip
# Rankings that name activity, not a metric: "the busiest channel" ranks by the model's count.
ACTIVITY_RANKS = {"busiest", "quietest", "active"}  # "the most active channel"
TREND_WORDS = {"trend", "over time", "timeline", "time series", "history"}
GROUP_LEADS = {"by", "per", "each", "every", "which", "what", "across"}
SEARCH_QUESTION = re.compile(
    r"^(?:what|how) (?:are|is|do|did|were|was|have) (?P<who>people|customers|prospects|we|they|"
    r"folks|users|clients|the team|reps) (?:been )?(?:saying|talking|say|said|think|thinking|feel|"
    r"feeling|discussing|discuss) (?:about|of|on) (?P<topic>.+)$"
    r"|^(?:search|find|look up) (?:for |messages about |mentions of |calls about )?(?P<t2>.+)$"
    r"|^(?:mentions of|discussions about|conversations about) (?P<t3>.+)$"
)
# Who said it, when the question names people outside the company: external speakers only.
OUTSIDERS = frozenset({"customers", "prospects", "clients"})


@dataclass
class Words:
    """A question's words, their stems, and which ones a rule has already used."""

    raw: list[str]
    stems: list[str]
    used: list[bool] = field(default_factory=list)
    # Which part of the query each used word went to ("metric", "filter", "time"…).
    parts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.used = [False] * len(self.raw)
        self.parts = [""] * len(self.raw)

    def free(self, start: int, end: int) -> bool:
        return end <= len(self.raw) and not any(self.used[start:end])

    def take(self, start: int, end: int, part: str) -> None:
        for i in range(start, end):
            self.used[i] = True
            self.parts[i] = part

    def by_part(self) -> dict[str, list[str]]:
        """The question's words grouped by the part of the query they were used for."""
        found: dict[str, list[str]] = {}
        for word, part in zip(self.raw, self.parts, strict=True):
            if part:
                found.setdefault(part, []).append(word)
        return found


def place(phrase: tuple[str, ...], free: list[tuple[int, str]]) -> list[int] | None:
    """Where the phrase's words are among the free words: contiguous if possible, else any."""
    stems = [s for _, s in free]
    for k in range(len(free) - len(phrase) + 1):
        if tuple(stems[k : k + len(phrase)]) == phrase:
            return [i for i, _ in free[k : k + len(phrase)]]
    positions: list[int] = []
    for part in phrase:
        spot = next((i for i, s in free if s == part and i not in positions), None)
        if spot is None:
            return None
        positions.append(spot)
    return positions
