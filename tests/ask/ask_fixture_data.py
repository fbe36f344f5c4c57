"""A small, deterministic company written straight into the warehouse contract tables.

Generated from a seeded random source so the tests can state expectations in hand-written
SQL instead of copying numbers; `AS_OF` is the pinned "today" of every question.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

AS_OF = date(2026, 7, 15)
START = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)

OWNERS = [
    ("o1", "dana@acme.test", "Dana", "Lee"),
    ("o2", "sam@acme.test", "Sam", "Ortiz"),
    ("o3", "priya@acme.test", "Priya", "Shah"),
    ("o4", "alex@acme.test", "Alex", "Kim"),
]
COMPANIES = [
    ("c1", "Acme Corp", "Manufacturing", "o1"),
    ("c2", "Globex", "Software", "o2"),
    ("c3", "Initech", "Software", "o3"),
    ("c4", "Umbrella Health", "Healthcare", "o1"),
    ("c5", "Hooli", "Software", "o4"),
    ("c6", "Stark Industries", "Manufacturing", "o2"),
]
STAGES = ["Closed Won", "Closed Won", "Closed Lost", "Negotiation", "Proposal", "Qualified"]
ASANA_USERS = [("u1", "Dana Lee"), ("u2", "Sam Ortiz"), ("u3", "Mia Wong"), ("u4", "Leo Park")]
PROJECTS = [
    ("p1", "Website Relaunch", "Marketing"),
    ("p2", "Customer Onboarding", "Success"),
    ("p3", "Data Platform", "Engineering"),
]
SLACK_USERS = [
    ("s1", "dana", "Dana Lee", False),
    ("s2", "sam", "Sam Ortiz", False),
    ("s3", "mia", "Mia Wong", False),
    ("s4", "leo", "Leo Park", False),
    ("s5", "deploybot", "Deploy Bot", True),
]
CHANNELS = [("C1", "sales"), ("C2", "general"), ("C3", "support")]
GONG_USERS = [("g1", "Dana", "Lee"), ("g2", "Sam", "Ortiz"), ("g3", "Priya", "Shah")]  # fmt: skip


def _at(rng: random.Random, lo: int, hi: int) -> datetime:
    return START + timedelta(days=rng.randint(lo, hi), hours=rng.randint(0, 8))


def _deals(rng: random.Random) -> list[tuple[Any, ...]]:
    rows = []
    latest = datetime(2026, 7, 14, 17, tzinfo=UTC)
    for i in range(1, 61):
        created = _at(rng, 0, 555)
        stage = rng.choice(STAGES)
        closed = stage.startswith("Closed")
        close = min(created + timedelta(days=rng.randint(5, 150)), latest) if closed else None
        amount = rng.choice([5000, 12000, 25000, 40000, 75000, 120000]) + rng.randint(0, 999)
        owner = rng.choice(OWNERS)[0] if i % 13 else None
        company = rng.choice(COMPANIES)[0]
        pipeline = "Enterprise" if amount >= 40000 else "SMB"
        rows.append(
            (
                f"d{i}",
                f"Deal {i}",
                amount,
                pipeline,
                stage,
                close,
                closed,
                stage == "Closed Won",
                owner,
                company,
                created,
                created,
                i == 60,
            )
        )
    return rows


def _tasks(rng: random.Random) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, 71):
        created = _at(rng, 300, 560)
        completed = rng.random() < 0.55 and created < datetime(2026, 7, 14, tzinfo=UTC)
        done_at = min(created + timedelta(days=rng.randint(1, 40), hours=3),
                      datetime(2026, 7, 14, 16, tzinfo=UTC)) if completed else None  # fmt: skip
        due = (created + timedelta(days=rng.randint(3, 60))).date()
        assignee = rng.choice(ASANA_USERS)[0] if i % 11 else None
        rows.append(
            (
                f"t{i}",
                rng.choice(PROJECTS)[0],
                f"Task {i}",
                assignee,
                completed,
                done_at,
                due,
                created,
                created,
                i == 70,
            )
        )
    return rows


def _messages(rng: random.Random) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, 161):
        posted = _at(rng, 400, 560) + timedelta(minutes=i)
        ts = f"{int(posted.timestamp())}.{i:06d}"
        thread = ts if i % 7 == 0 else None
        rows.append(
            (
                rng.choice(CHANNELS)[0],
                ts,
                rng.choice(SLACK_USERS)[0],
                f"message {i} about pricing" if i % 5 == 0 else f"message {i}",
                thread,
                2 if thread else 0,
                posted,
                i == 160,
            )
        )
    return rows


def _calls(rng: random.Random) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, 41):
        started = _at(rng, 380, 560)
        rows.append(
            (
                f"call{i}",
                f"Call {i}",
                started,
                rng.randint(300, 3600),
                rng.choice(["Inbound", "Outbound", "Conference"]),
                rng.choice(["External", "External", "Internal"]),
                rng.choice(GONG_USERS)[0],
            )
        )
    return rows


def load(url: str) -> None:
    """Fill an empty, migrated warehouse with the fixture company."""
    rng = random.Random(20260715)
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO hubspot.owners (id, email, first_name, last_name) VALUES (%s, %s, %s, %s)",
            OWNERS,
        )
        cur.executemany(
            "INSERT INTO hubspot.companies (id, name, industry, owner_id, created_at) "
            "VALUES (%s, %s, %s, %s, %s)",
            [(*c, _at(rng, 0, 555)) for c in COMPANIES],
        )
        cur.executemany(
            "INSERT INTO hubspot.contacts (id, email, first_name, company_id, owner_id, "
            "lifecycle_stage, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    f"ct{i}",
                    f"p{i}@x.test",
                    f"P{i}",
                    rng.choice(COMPANIES)[0],
                    rng.choice(OWNERS)[0],
                    rng.choice(["lead", "customer", "opportunity"]),
                    _at(rng, 0, 555),
                )
                for i in range(1, 31)
            ],
        )
        cur.executemany(
            "INSERT INTO hubspot.deals (id, name, amount, pipeline, stage, close_date, is_closed, "
            "is_won, owner_id, company_id, created_at, updated_at, archived) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            _deals(rng),
        )
        cur.executemany("INSERT INTO asana.users (gid, name) VALUES (%s, %s)", ASANA_USERS)
        cur.executemany(
            "INSERT INTO asana.projects (gid, name, team_name) VALUES (%s, %s, %s)", PROJECTS
        )
        cur.executemany(
            "INSERT INTO asana.tasks (gid, project_gid, name, assignee_gid, completed, "
            "completed_at, due_on, created_at, modified_at, deleted) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            _tasks(rng),
        )
        cur.executemany(
            "INSERT INTO slack.users (id, name, real_name, is_bot) VALUES (%s, %s, %s, %s)",
            SLACK_USERS,
        )
        cur.executemany("INSERT INTO slack.channels (id, name) VALUES (%s, %s)", CHANNELS)
        cur.executemany(
            "INSERT INTO slack.messages (channel_id, ts, user_id, text, thread_ts, reply_count, "
            "posted_at, deleted) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            _messages(rng),
        )
        cur.executemany(
            "INSERT INTO gong.users (id, first_name, last_name) VALUES (%s, %s, %s)", GONG_USERS
        )
        cur.executemany(
            "INSERT INTO gong.calls (id, title, started_at, duration_seconds, direction, scope, "
            "primary_user_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            _calls(rng),
        )
        cur.execute(
            "INSERT INTO sophia.sync_runs (run_id, source, stream, started_at, finished_at, status)"
            " VALUES ('r1', 'hubspot', 'deals', '2026-07-14 05:00Z', '2026-07-14 05:01Z', 'success'),"  # noqa: E501
            " ('r1', 'asana', 'tasks', '2026-07-14 05:00Z', '2026-07-14 05:02Z', 'success'),"
            " ('r2', 'slack', 'messages', '2026-07-14 06:00Z', NULL, 'failed')"
        )
        conn.commit()
