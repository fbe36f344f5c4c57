"""A small company's conversations, written into a warehouse the way sync leaves them.

Times are fixed in 2026 so filters and time phrases can be checked exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def ts(day: str) -> str:
    return f"{at(day).timestamp():.6f}"


PARENT = ts("2026-06-21T09:00:00")
SLACK_USERS = [("U1", "dana", "Dana Lee"), ("U2", "sam", "Sam Ortiz")]
CHANNELS = [("C1", "deals"), ("C2", "random")]
MESSAGES = [  # channel, ts, user, text, thread_ts, reply_count, deleted
    ("C1", PARENT, "U1", "The customer pushed back hard on pricing again, they want a discount "
     "for annual plans", PARENT, 1, False),
    ("C1", ts("2026-06-21T10:00:00"), "U2", "Agreed, legal also flagged the renewal terms",
     PARENT, 0, False),
    ("C2", ts("2026-05-02T12:00:00"), "U2", "Lunch is at noon today", None, 0, False),
    ("C1", ts("2026-06-25T08:00:00"), "U1", "Old pricing spreadsheet, ignore", None, 0, True),
]  # fmt: skip
CALLS = [  # id, title, started
    ("g1", "Acme renewal", at("2026-06-10T15:00:00")),
    ("g2", "Globex onboarding", at("2026-05-02T16:00:00")),
]
PARTICIPANTS = [  # call, party, name, affiliation, speaker
    ("g1", "p1", "Priya Shah", "Internal", "sp1"),
    ("g1", "p2", "Tom Baker", "External", "sp2"),
    ("g2", "p3", "Dana Lee", "Internal", "sp3"),
    ("g2", "p4", "Ann Cole", "External", "sp4"),
]
TURNS = [  # call, speaker, start_ms, text
    ("g1", "sp1", 0, "Thanks for joining, let us walk through the renewal proposal"),
    ("g1", "sp2", 5000, "Honestly the enterprise tier is too expensive for us, price is our main "
     "objection"),
    ("g1", "sp1", 12000, "We can look at a multi-year discount to bring the price down"),
    ("g2", "sp4", 0, "The security review and the onboarding timeline worry us"),
    ("g2", "sp3", 7000, "Our onboarding team will share a plan this week"),
]  # fmt: skip
ASANA_USERS = [("A1", "Mia Wong")]
PROJECTS = [("P1", "Website")]
TASKS = [  # gid, name, notes, assignee, modified, deleted
    ("t1", "Update the pricing page copy", "New tiers go live in July", "A1",
     at("2026-03-03T10:00:00"), False),
    ("t2", "Pricing objection handling deck", None, "A1", at("2026-06-01T10:00:00"), True),
]  # fmt: skip

LIVE_IDS = {
    f"slack:C1:{PARENT}", f"slack:C1:{ts('2026-06-21T10:00:00')}",
    f"slack:C2:{ts('2026-05-02T12:00:00')}",
    "gong:g1:0", "gong:g1:5000", "gong:g1:12000", "gong:g2:0", "gong:g2:7000", "asana:t1",
}  # fmt: skip
PRICE_OBJECTION = "gong:g1:5000"


def write(url: str) -> None:
    """Insert the company into a migrated, empty warehouse."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO slack.users (id, name, real_name) VALUES (%s, %s, %s)",
                        SLACK_USERS)  # fmt: skip
        cur.executemany("INSERT INTO slack.channels (id, name) VALUES (%s, %s)", CHANNELS)
        cur.executemany(
            "INSERT INTO slack.messages (channel_id, ts, user_id, text, thread_ts, reply_count,"
            " posted_at, deleted) VALUES (%s, %s, %s, %s, %s, %s, to_timestamp(%s::numeric), %s)",
            [(c, t, u, x, th, n, t, d) for c, t, u, x, th, n, d in MESSAGES],
        )
        cur.executemany("INSERT INTO gong.calls (id, title, started_at) VALUES (%s, %s, %s)", CALLS)
        cur.executemany(
            "INSERT INTO gong.call_participants (call_id, party_id, name, affiliation, speaker_id)"
            " VALUES (%s, %s, %s, %s, %s)",
            PARTICIPANTS,
        )
        cur.executemany(
            "INSERT INTO gong.transcripts (call_id, speaker_id, start_ms, end_ms, text)"
            " VALUES (%s, %s, %s, %s + 4000, %s)",
            [(c, s, m, m, x) for c, s, m, x in TURNS],
        )
        cur.executemany("INSERT INTO asana.users (gid, name) VALUES (%s, %s)", ASANA_USERS)
        cur.executemany("INSERT INTO asana.projects (gid, name) VALUES (%s, %s)", PROJECTS)
        cur.executemany(
            "INSERT INTO asana.tasks (gid, project_gid, name, notes, assignee_gid, modified_at,"
            " deleted) VALUES (%s, 'P1', %s, %s, %s, %s, %s)",
            TASKS,
        )
