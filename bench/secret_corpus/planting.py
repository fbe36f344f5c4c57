"""Helpers every form uses: plant a secret, a look-alike, or a shuffled mix of both."""

from __future__ import annotations

from collections.abc import Callable

from bench.secret_corpus.builder import FileBuilder, FormContext
from bench.secret_corpus.tokens import Token

Render = Callable[[str, str], str]


def plant(
    b: FileBuilder,
    ctx: FormContext,
    render: Render,
    token: Token | None = None,
    kinds: tuple[str, ...] = ("line", "url"),
) -> None:
    """One secret written by `render(name, value)`; a Twilio token gets its account SID first."""
    token = token or ctx.take_any(kinds)
    if "sid" in token.extra:
        b.unscored(render("TWILIO_ACCOUNT_SID", token.extra["sid"]))
    b.secret(render(ctx.name(token), token.text), token)


def fake(b: FileBuilder, ctx: FormContext, render: Render, family: str | None = None) -> None:
    lookalike = ctx.decoy(family)
    b.decoy(render(lookalike.name, lookalike.value), lookalike)


def mixed(
    b: FileBuilder,
    ctx: FormContext,
    render: Render,
    secrets: int,
    decoys: int,
    filler: list[str],
    kinds: tuple[str, ...] = ("line", "url"),
) -> None:
    """Secrets, look-alikes and ordinary lines in a random order."""
    steps: list[Callable[[], None]] = [
        lambda: plant(b, ctx, render, kinds=kinds) for _ in range(secrets)
    ]
    steps += [lambda: fake(b, ctx, render) for _ in range(decoys + secrets)]
    steps += [lambda row=row: b.add(row) for row in filler]  # type: ignore[misc]
    ctx.rng.shuffle(steps)
    for step in steps:
        step()
