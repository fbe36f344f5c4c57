"""Search units, read from the warehouse: what one search hit is, per source.

A unit is the smallest text that answers "who said what, where, when": a Slack message
(replies carry their thread's opening message as context, openings their first replies), a
Gong speaker turn (its neighbouring turns as context, the speaker's affiliation from the
call's participants), an Asana task (its parent task as context). Only live records become
units: deleted or tombstoned rows are left out, so re-indexing from here drops them.
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass
from typing import Any

from sophia_cli.core.sync.sources import SEARCHABLE as SOURCES

CONTEXT_CHARS = 1200
# How much of a unit's conversation its dense vector carries. WordLlama averages token vectors,
# so a ten-word Gong turn embedded with 800 characters of neighbouring turns points where the
# neighbours point: on the blind set dense recall@10 was 0.60 with the context in the text and
# 0.81 with the unit's own words (0.81 with this small share, which keeps a bare "+1" reply
# near its thread). The context is still shown with every hit.
CONTEXT_WEIGHT = 0.1

_SLACK = """
SELECT 'slack:' || m.channel_id || ':' || m.ts,
       CASE WHEN m.thread_ts IS NOT NULL AND m.thread_ts <> m.ts THEN 'reply' ELSE 'message' END,
       coalesce(m.user_id, ''),
       coalesce(nullif(u.real_name, ''), u.name, m.user_id, ''),
       CASE WHEN u.is_external THEN 'external' ELSE 'internal' END,
       m.channel_id,
       coalesce('#' || c.name, m.channel_id),
       floor(m.ts::numeric)::bigint,
       'https://slack.com/archives/' || m.channel_id || '/p' || replace(m.ts, '.', ''),
       m.text,
       coalesce(p.text, r.replies, '')
FROM slack.messages m
LEFT JOIN slack.users u ON u.id = m.user_id
LEFT JOIN slack.channels c ON c.id = m.channel_id
LEFT JOIN slack.messages p
       ON p.channel_id = m.channel_id AND p.ts = m.thread_ts AND p.ts <> m.ts AND NOT p.deleted
LEFT JOIN LATERAL (
    SELECT string_agg(x.text, ' … ' ORDER BY x.ts) AS replies FROM (
        SELECT s.text, s.ts FROM slack.messages s
        WHERE s.channel_id = m.channel_id AND s.thread_ts = m.ts AND s.ts <> m.ts AND NOT s.deleted
        ORDER BY s.ts LIMIT 3) x
) r ON m.reply_count > 0
WHERE NOT m.deleted AND coalesce(m.text, '') <> ''
"""

_GONG = """
WITH turns AS (
    SELECT call_id, speaker_id, start_ms, text,
           right(lag(text) OVER w, 400) AS before, left(lead(text) OVER w, 400) AS after
    FROM gong.transcripts
    WHERE coalesce(text, '') <> ''
    WINDOW w AS (PARTITION BY call_id ORDER BY start_ms)
)
SELECT 'gong:' || t.call_id || ':' || t.start_ms,
       'transcript',
       coalesce(t.speaker_id, ''),
       coalesce(p.name, ''),
       lower(coalesce(p.affiliation, '')),
       t.call_id,
       coalesce(c.title, t.call_id),
       coalesce(extract(epoch FROM c.started_at)::bigint, 0) + t.start_ms / 1000,
       'https://app.gong.io/call?id=' || t.call_id,
       t.text,
       concat_ws(' … ', t.before, t.after)
FROM turns t
LEFT JOIN gong.calls c ON c.id = t.call_id
LEFT JOIN LATERAL (
    SELECT cp.name, cp.affiliation FROM gong.call_participants cp
    WHERE cp.call_id = t.call_id AND cp.speaker_id = t.speaker_id
    ORDER BY cp.name LIMIT 1
) p ON true
WHERE c.deleted IS NOT TRUE
"""

_ASANA = """
SELECT 'asana:' || t.gid,
       CASE WHEN t.parent_gid IS NULL THEN 'task' ELSE 'subtask' END,
       coalesce(t.assignee_gid, ''),
       coalesce(u.name, ''),
       'internal',
       coalesce(t.project_gid, ''),
       coalesce(pr.name, ''),
       coalesce(extract(epoch FROM t.modified_at)::bigint, 0),
       'https://app.asana.com/0/' || coalesce(t.project_gid, '0') || '/' || t.gid,
       concat_ws(E'\\n', t.name, t.notes),
       coalesce(parent.name, '')
FROM asana.tasks t
LEFT JOIN asana.users u ON u.gid = t.assignee_gid
LEFT JOIN asana.projects pr ON pr.gid = t.project_gid
LEFT JOIN asana.tasks parent ON parent.gid = t.parent_gid
WHERE NOT t.deleted AND concat_ws(E'\\n', t.name, t.notes) <> ''
"""

QUERIES = {"slack": _SLACK, "gong": _GONG, "asana": _ASANA}
# The tables a source's units are read from (the texts, and the names joined to them).
TABLES = {
    "slack": ("slack.messages", "slack.users", "slack.channels"),
    "gong": ("gong.transcripts", "gong.calls", "gong.call_participants"),
    "asana": ("asana.tasks", "asana.users", "asana.projects"),
}
# A source the registry declares searchable must say what its search units are.
assert set(SOURCES) <= set(QUERIES), f"no search units for {set(SOURCES) - set(QUERIES)}"


@dataclass(frozen=True)
class Unit:
    """One searchable text with who, where and when (the collection's row, minus vectors)."""

    id: str
    kind: str
    author: str
    author_name: str
    affiliation: str
    place: str
    place_name: str
    ts: int
    url: str
    text: str
    context: str
    source: str = ""

    def embedding_texts(self) -> tuple[str, str]:
        """What the dense vector reads: the unit's own words, and (weighted low) its context."""
        return self.text, self.context[:CONTEXT_CHARS]

    def fingerprint(self, signature: str) -> str:
        """Changes whenever anything indexed about the unit (or the embedder) changes."""
        raw = "\x1f".join(map(str, (signature, *astuple(self))))
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _unit(row: tuple[Any, ...], source: str) -> Unit:
    uid, kind, author, name, affiliation, place, place_name, ts, url, text, context = row
    return Unit(
        id=str(uid), kind=str(kind), author=str(author), author_name=str(name),
        affiliation=str(affiliation), place=str(place), place_name=str(place_name), ts=int(ts),
        url=str(url), text=str(text), context=str(context), source=source,
    )  # fmt: skip


def warehouse_state(conn: Any, source: str) -> str:
    """A cheap digest that changes whenever a row `source`'s units read is written or removed.

    Every insert or update writes a row version with a new `xmin` (its transaction id) and a
    delete lowers the count, so count and sum of `xmin` per table move with any write, without
    reading a text: a sync that changed nothing lets the refresh skip reading every unit and
    every fingerprint in the index (4–5 s per source of the demo).
    """
    parts = []
    for table in TABLES[source]:
        count, xmins = conn.execute(
            f"SELECT count(*), coalesce(sum(xmin::text::bigint), 0) FROM {table}"  # noqa: S608
        ).fetchone()
        parts.append(f"{table}:{count}:{xmins}")
    return ";".join(parts)


def read_units(conn: Any, source: str) -> list[Unit]:
    """Every live unit of `source` in the warehouse (a psycopg connection)."""
    return [_unit(row, source) for row in conn.execute(QUERIES[source]).fetchall()]
