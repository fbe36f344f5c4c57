"""Pinned questions: the cards of a person's dashboard on the BI page, per token subject.

Every function takes the subject from the verified token, never from the request body, so
nobody can list, add to or remove from another subject's dashboard.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from sophia_cli.core.bi.freshness import current_version
from sophia_cli.core.errors import ConflictError, InputError, NotFoundError
from sophia_cli.core.settings import Settings
from sophia_cli.store import pins as store
from sophia_cli.store import pooled

MAX_QUESTION_LENGTH = 2000
MAX_TITLE_LENGTH = 200
MAX_PINS = 50


class Pin(BaseModel):
    id: int
    question: str
    title: str
    position: int
    created_at: datetime


class Pins(BaseModel):
    """Exactly what `GET /v1/pins` returns: the cards in order and the data version they
    were answered against (a new version means: ask them again)."""

    pins: list[Pin]
    data_version: str


def _pin(row: tuple[Any, ...]) -> Pin:
    pin_id, question, title, position, created_at = row
    return Pin(id=pin_id, question=question, title=title, position=position, created_at=created_at)


def _clean(text: str, what: str, longest: int) -> str:
    """Whitespace collapsed (so the same question typed twice is one pin), length checked."""
    cleaned = " ".join(text.split())
    if "\x00" in cleaned:  # PostgreSQL text cannot hold it
        raise InputError(f"the {what} contains a NUL character", hint=f"Send the {what} as text.")
    if not cleaned:
        raise InputError(f"the {what} is empty", hint=f"Send the {what} to pin.")
    if len(cleaned) > longest:
        raise InputError(
            f"the {what} has {len(cleaned)} characters; at most {longest} can be pinned",
            hint=f"Shorten the {what}.",
        )
    return cleaned


def list_pins(settings: Settings, subject: str) -> Pins:
    """The subject's pins in dashboard order, with the current data version."""
    with pooled.pg_pool(settings).connection() as conn:
        rows = store.list_for(conn, subject)
    return Pins(pins=[_pin(row) for row in rows], data_version=current_version(settings))


def add_pin(
    settings: Settings, subject: str, question: str, title: str | None = None
) -> tuple[Pin, bool]:
    """The pin for `question` and whether it is new; the same question again is the pin
    already there. ConflictError (409) when the subject already has MAX_PINS pins."""
    question = _clean(question, "question", MAX_QUESTION_LENGTH)
    if title is None:
        title = question[:MAX_TITLE_LENGTH].rstrip()
    else:
        title = _clean(title, "title", MAX_TITLE_LENGTH)
    with pooled.pg_pool(settings).connection() as conn, conn.transaction():
        store.lock_subject(conn, subject)
        if (found := store.find(conn, subject, question)) is not None:
            return _pin(found), False
        if store.count(conn, subject) >= MAX_PINS:
            raise ConflictError(
                f"{subject!r} already has {MAX_PINS} pinned questions, the most a dashboard holds",
                hint="Unpin one first (DELETE /v1/pins/{id}).",
            )
        return _pin(store.insert(conn, subject, question, title)), True


def remove_pin(settings: Settings, subject: str, pin_id: int) -> None:
    """Unpin; NotFoundError when the subject has no pin with this id (whoever else may)."""
    with pooled.pg_pool(settings).connection() as conn, conn.transaction():
        removed = store.delete(conn, subject, pin_id)
    if not removed:
        raise NotFoundError(
            f"no pinned question {pin_id} on your dashboard",
            hint="GET /v1/pins lists your pins and their ids.",
        )
