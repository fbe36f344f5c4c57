"""SQL of pinned questions (`sophia.pinned_questions`); every statement is per subject."""

from __future__ import annotations

from typing import Any

import psycopg

Row = tuple[Any, ...]
Connection = psycopg.Connection[Row]
COLUMNS = "id, question, title, position, created_at"


def list_for(conn: Connection, subject: str) -> list[Row]:
    """The subject's pins in dashboard order."""
    return conn.execute(
        f"SELECT {COLUMNS} FROM sophia.pinned_questions WHERE subject = %s ORDER BY position, id",
        (subject,),
    ).fetchall()


def lock_subject(conn: Connection, subject: str) -> None:
    """Serialise one subject's additions until the transaction ends (the count limit holds
    under concurrent requests; a transaction lock, safe through a pooler)."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('sophia.pins:' || %s, 0))", (subject,)
    )


def find(conn: Connection, subject: str, question: str) -> Row | None:
    return conn.execute(
        f"SELECT {COLUMNS} FROM sophia.pinned_questions WHERE subject = %s AND question = %s",
        (subject, question),
    ).fetchone()


def count(conn: Connection, subject: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM sophia.pinned_questions WHERE subject = %s", (subject,)
    ).fetchone()
    return int(row[0]) if row else 0


def insert(conn: Connection, subject: str, question: str, title: str) -> Row:
    """A new pin after the subject's last one."""
    row = conn.execute(
        "INSERT INTO sophia.pinned_questions (subject, question, title, position) "
        "SELECT %(subject)s, %(question)s, %(title)s, coalesce(max(position), 0) + 1 "
        "FROM sophia.pinned_questions WHERE subject = %(subject)s "
        f"RETURNING {COLUMNS}",
        {"subject": subject, "question": question, "title": title},
    ).fetchone()
    assert row is not None
    return row


def delete(conn: Connection, subject: str, pin_id: int) -> bool:
    """Whether a pin of this subject with this id existed (and is now gone)."""
    cursor = conn.execute(
        "DELETE FROM sophia.pinned_questions WHERE subject = %s AND id = %s", (subject, pin_id)
    )
    return cursor.rowcount > 0
