"""What a form uses to write one file: lines, planted secrets and look-alikes, each labelled.

A form (see `forms.py`, and the held-out set outside the repository) is a function
`form(ctx: FormContext) -> FileBuilder`. It asks `ctx.take(...)` for fresh secrets and
`ctx.decoy(...)` for look-alikes, and writes them with `FileBuilder.secret` /
`FileBuilder.decoy`, which record the line numbers as they go.
"""

from __future__ import annotations

import random
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from bench.secret_corpus.decoys import Lookalike, lookalike
from bench.secret_corpus.tokens import FAMILIES, Token, aws_key_id, aws_secret_key


@dataclass(frozen=True)
class Label:
    """A planted secret starting on `line` of `file`.

    A finding detects it when it names `file` and a line in `accept` (the lines the secret
    covers, or the whole enclosing object where that is what a scanner may point at: the
    `key: |` line of a YAML block, the service-account JSON object)."""

    family: str
    file: str
    line: int
    end_line: int
    accept: tuple[int, int]
    secret: str
    public_prefix: str
    form: str
    as_written: str = ""

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v != "" or k == "public_prefix"}


@dataclass(frozen=True)
class Decoy:
    """A look-alike that must not be flagged; `family` is the family it imitates."""

    family: str
    file: str
    line: int
    end_line: int
    kind: str
    text: str
    form: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class FileBuilder:
    path: str
    form: str
    lines: list[str] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    decoys: list[Decoy] = field(default_factory=list)
    neutral: list[tuple[int, int]] = field(default_factory=list)

    @property
    def next_line(self) -> int:
        return len(self.lines) + 1

    def add(self, *texts: str) -> None:
        """Plain lines (a text with newlines adds several)."""
        for text in texts:
            self.lines.extend(text.split("\n"))

    def secret(self, text: str, token: Token, *, as_written: str = "", marker: str = "") -> None:
        """Write `text` (which holds the secret) and label it; every line of `text` is accepted.

        The secret's own first and last lines are found by `marker` (default: the first
        line of the secret as written) and by its line count."""
        start = self.next_line
        self.add(text)
        end = self.next_line - 1
        written = as_written or (_in_url(token.value) if token.kind == "url" else "")
        written = "" if written == token.value else written
        probe = marker or (written or token.value).split("\n")[0][:24]
        rows = text.split("\n")
        offset = next((i for i, row in enumerate(rows) if probe and probe in row), 0)
        height = (
            (written or token.value).strip("\n").count("\n")
            if token.kind == "pem" and "\n" in text
            else 0
        )
        first = start + offset
        label = Label(
            token.family,
            self.path,
            first,
            min(first + height, end),
            (start, end),
            token.value,
            token.public_prefix,
            self.form,
            written,
        )
        self.labels.append(label)

    def decoy(self, text: str, fake: Lookalike) -> None:
        start = self.next_line
        self.add(text)
        self.decoys.append(
            Decoy(
                fake.family, self.path, start, self.next_line - 1, fake.kind, fake.value, self.form
            )
        )

    def unscored(self, text: str) -> None:
        """Lines that are neither secret nor look-alike (an account SID beside its token)."""
        start = self.next_line
        self.add(text)
        self.neutral.append((start, self.next_line - 1))

    def content(self) -> str:
        return "\n".join(self.lines) + "\n"


class FormContext:
    """Hands a form fresh secrets (balancing families) and look-alikes, from one generator."""

    def __init__(self, rng: random.Random, planted: Counter[str], faked: Counter[str]) -> None:
        self.rng = rng
        self._planted = planted
        self._faked = faked
        self._paths: set[str] = set()

    def take(self, family: str) -> Token:
        self._planted[family] += 1
        return FAMILIES[family](self.rng)

    def take_any(
        self, kinds: Iterable[str] = ("line",), families: Iterable[str] | None = None
    ) -> Token:
        """A secret from the least-planted family among those of the given kinds."""
        allowed = [f for f in (families or FAMILIES) if _kind_of(f) in set(kinds)]
        low = min(self._planted[f] for f in allowed)
        family = self.rng.choice([f for f in allowed if self._planted[f] == low])
        return self.take(family)

    def take_aws_pair(self) -> tuple[Token, Token]:
        """An access key id and its secret access key (two planted secrets)."""
        self._planted["aws"] += 2
        return aws_key_id(self.rng), aws_secret_key(self.rng)

    def custom_decoy(self, family: str, kind: str, value: str, name: str = "") -> Lookalike:
        self._faked[family] += 1
        return Lookalike(family, kind, value, name)

    def decoy(self, family: str | None = None, kinds: Iterable[str] | None = None) -> Lookalike:
        """A look-alike imitating `family` (or the least-faked family)."""
        if family is None:
            low = min(self._faked[f] for f in FAMILIES)
            family = self.rng.choice([f for f in FAMILIES if self._faked[f] == low])
        self._faked[family] += 1
        return lookalike(self.rng, family, tuple(kinds) if kinds else None)

    def path(self, template: str) -> str:
        """A unique path from a template with `{n}` (and `{name}` from a small word list)."""
        for attempt in range(1000):
            name = self.rng.choice(
                [
                    "billing",
                    "ingest",
                    "reports",
                    "notifier",
                    "gateway",
                    "search",
                    "worker",
                    "admin",
                    "crm",
                    "etl",
                ]
            )
            candidate = template.format(
                n=attempt, name=name if attempt < 30 else f"{name}{attempt}"
            )
            if attempt and "{" not in template:
                # A fixed name (.env, Dockerfile) taken already: the next service's copy.
                candidate = f"services/{name}-{attempt}/{template}"
            if candidate not in self._paths:
                self._paths.add(candidate)
                return candidate
        raise RuntimeError(f"no free path for {template}")

    def name(self, token: Token) -> str:
        return self.rng.choice(token.names)


def _in_url(password: str) -> str:
    return urllib.parse.quote(password, safe="")


def _kind_of(family: str) -> str:
    return {"gcp_service_account": "gcp", "private_key": "pem", "database_url": "url"}.get(
        family, "line"
    )


Form = Callable[[FormContext], FileBuilder]
