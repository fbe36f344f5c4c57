"""What a correct full sync must hold: the dataset projected onto the warehouse contract.

Rows use the contract's column names (DESIGN.md) with JSON values: timestamps as ISO-8601
UTC, numbers as numbers, booleans as booleans. The counts are the lengths of these lists, so
the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sophia_cli.sandbox.clock import iso_ms, parse_iso, ts_moment
from sophia_cli.sandbox.dataset import Dataset, Record

Row = dict[str, Any]
KEYS: dict[str, tuple[str, ...]] = {
    "hubspot.owners": ("id",),
    "hubspot.companies": ("id",),
    "hubspot.contacts": ("id",),
    "hubspot.deals": ("id",),
    "hubspot.pipelines": ("id",),
    "hubspot.pipeline_stages": ("pipeline_id", "id"),
    "asana.users": ("gid",),
    "asana.projects": ("gid",),
    "asana.tasks": ("gid",),
    "slack.users": ("id",),
    "slack.channels": ("id",),
    "slack.messages": ("channel_id", "ts"),
    "gong.users": ("id",),
    "gong.calls": ("id",),
    "gong.call_participants": ("call_id", "speaker_id"),
    "gong.transcripts": ("call_id", "speaker_id", "start_ms"),
}
ARCHIVED_FLAG = {
    "hubspot.owners": "archived",
    "hubspot.companies": "archived",
    "hubspot.contacts": "archived",
    "hubspot.deals": "archived",
    "hubspot.pipelines": "archived",
    "asana.projects": "archived",
    "slack.users": "deleted",
    "slack.channels": "is_archived",
}


def _ts(value: str | None) -> str | None:
    """An API timestamp normalised to ISO-8601 UTC with milliseconds."""
    return iso_ms(parse_iso(value)) if value else None


def _num(value: str | None) -> float | int | None:
    """A property string as a number (int when whole), None when empty."""
    if value in (None, ""):
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def hubspot_owners(ds: Dataset) -> list[Row]:
    """hubspot.owners rows."""
    return [
        {
            "id": o["id"],
            "email": o.get("email"),
            "first_name": o.get("firstName"),
            "last_name": o.get("lastName"),
            "archived": o["archived"],
            "updated_at": _ts(o["updatedAt"]),
        }
        for o in ds.hubspot.owners.values()
    ]


def _with_merged(ds: Dataset, kind: str) -> list[Record]:
    """Live and archived records, and merged-away ones (kept archived by reconciliation)."""
    merged = [{**r, "archived": True} for r in ds.hubspot.merged.get(kind, {}).values()]
    return [*ds.hubspot.objects[kind].values(), *merged]


def hubspot_companies(ds: Dataset) -> list[Row]:
    """hubspot.companies rows."""
    rows = []
    for c in _with_merged(ds, "companies"):
        p = c["properties"]
        rows.append(
            {
                "id": c["id"],
                "name": p.get("name"),
                "domain": p.get("domain"),
                "industry": p.get("industry"),
                "number_of_employees": _num(p.get("numberofemployees")),
                "annual_revenue": _num(p.get("annualrevenue")),
                "owner_id": p.get("hubspot_owner_id"),
                "created_at": _ts(c["createdAt"]),
                "updated_at": _ts(c["updatedAt"]),
                "archived": c["archived"],
                "merged_object_ids": p.get("hs_merged_object_ids"),
            }
        )
    return rows


def hubspot_contacts(ds: Dataset) -> list[Row]:
    """hubspot.contacts rows (company from the primary association)."""
    rows = []
    for c in _with_merged(ds, "contacts"):
        p = c["properties"]
        rows.append(
            {
                "id": c["id"],
                "email": p.get("email"),
                "first_name": p.get("firstname"),
                "last_name": p.get("lastname"),
                "company_id": c.get("_company"),
                "owner_id": p.get("hubspot_owner_id"),
                "lifecycle_stage": p.get("lifecyclestage"),
                "created_at": _ts(c["createdAt"]),
                "updated_at": _ts(c["updatedAt"]),
                "archived": c["archived"],
                "merged_object_ids": p.get("hs_merged_object_ids"),
            }
        )
    return rows


def hubspot_deals(ds: Dataset) -> list[Row]:
    """hubspot.deals rows (is_closed / is_won from the stage)."""
    rows = []
    for d in _with_merged(ds, "deals"):
        p = d["properties"]
        rows.append(
            {
                "id": d["id"],
                "name": p.get("dealname"),
                "amount": _num(p.get("amount")),
                "pipeline": p.get("pipeline"),
                "stage": p.get("dealstage"),
                "close_date": _ts(p.get("closedate")),
                "is_closed": p.get("hs_is_closed") == "true",
                "is_won": p.get("hs_is_closed_won") == "true",
                "owner_id": p.get("hubspot_owner_id"),
                "company_id": d.get("_company"),
                "created_at": _ts(d["createdAt"]),
                "updated_at": _ts(d["updatedAt"]),
                "archived": d["archived"],
                "merged_object_ids": p.get("hs_merged_object_ids"),
            }
        )
    return rows


def asana_users(ds: Dataset) -> list[Row]:
    """asana.users rows."""
    return [
        {"gid": u["gid"], "name": u["name"], "email": u.get("email")}
        for u in ds.asana.users.values()
    ]


def asana_projects(ds: Dataset) -> list[Row]:
    """asana.projects rows."""
    return [
        {
            "gid": p["gid"],
            "name": p["name"],
            "team_name": p["team"]["name"],
            "archived": p["archived"],
            "created_at": _ts(p["created_at"]),
            "modified_at": _ts(p["modified_at"]),
        }
        for p in ds.asana.projects.values()
    ]


def asana_tasks(ds: Dataset) -> list[Row]:
    """asana.tasks rows (deleted tasks are gone)."""
    return [
        {
            "gid": t["gid"],
            "project_gid": t["_project"],
            "parent_gid": t.get("_parent"),
            "name": t["name"],
            "assignee_gid": t["assignee"]["gid"] if t["assignee"] else None,
            "completed": t["completed"],
            "completed_at": _ts(t["completed_at"]),
            "due_on": t["due_on"],
            "created_at": _ts(t["created_at"]),
            "modified_at": _ts(t["modified_at"]),
        }
        for t in ds.asana.tasks.values()
    ]


def slack_users(ds: Dataset) -> list[Row]:
    """slack.users rows."""
    return [
        {
            "id": u["id"],
            "name": u["name"],
            "real_name": u["real_name"],
            "email": u["profile"].get("email"),
            "is_bot": u["is_bot"],
            "deleted": u["deleted"],
            "team_id": u["team_id"],
            "is_external": u["team_id"] != ds.slack.team_id,
        }
        for u in ds.slack.users.values()
    ]


def slack_channels(ds: Dataset) -> list[Row]:
    """slack.channels rows."""
    return [
        {
            "id": c["id"],
            "name": c["name"],
            "is_private": c["is_private"],
            "is_archived": c["is_archived"],
            "created_at": iso_ms(ts_moment(str(c["created"]))),
        }
        for c in ds.slack.channels.values()
    ]


def _message_row(channel: str, m: Record) -> Row:
    """One slack.messages row."""
    return {
        "channel_id": channel,
        "ts": m["ts"],
        "user_id": m.get("user"),
        "text": m["text"],
        "thread_ts": m.get("thread_ts"),
        "reply_count": m.get("reply_count", 0),
        "posted_at": iso_ms(ts_moment(m["ts"])),
    }


def slack_messages(ds: Dataset) -> list[Row]:
    """Parents and replies of every channel the bot can read."""
    rows = []
    for cid, channel in ds.slack.channels.items():
        if not channel["is_member"]:
            continue
        # A deleted parent that still has replies is a tombstone: gone from the data.
        rows += [
            _message_row(cid, m)
            for m in ds.slack.messages[cid].values()
            if m.get("subtype") != "tombstone"
        ]
        rows += [_message_row(cid, r) for thread in ds.slack.replies[cid].values() for r in thread]
    return rows


def gong_users(ds: Dataset) -> list[Row]:
    """gong.users rows."""
    return [
        {
            "id": u["id"],
            "email": u["emailAddress"],
            "first_name": u["firstName"],
            "last_name": u["lastName"],
        }
        for u in ds.gong.users.values()
    ]


def visible_calls(ds: Dataset) -> list[Record]:
    """Calls Gong has finished processing (the only ones the API lists)."""
    return [c for cid, c in ds.gong.calls.items() if ds.gong.call_wait.get(cid, 0) <= 0]


def transcript_ready(ds: Dataset, call_id: str) -> bool:
    """Whether the call and its transcript are both visible."""
    return ds.gong.call_wait.get(call_id, 0) <= 0 and ds.gong.transcript_wait.get(call_id, 0) <= 0


def gong_calls(ds: Dataset) -> list[Row]:
    """gong.calls rows of processed calls."""
    return [
        {
            "id": m["id"],
            "title": m["title"],
            "started_at": _ts(m["started"]),
            "duration_seconds": m["duration"],
            "direction": m["direction"],
            "scope": m["scope"],
            "primary_user_id": m["primaryUserId"],
        }
        for m in (c["metaData"] for c in visible_calls(ds))
    ]


def gong_call_participants(ds: Dataset) -> list[Row]:
    """gong.call_participants rows of processed calls."""
    return [
        {
            "call_id": c["metaData"]["id"],
            "email": p["emailAddress"],
            "name": p["name"],
            "affiliation": p["affiliation"],
            "speaker_id": p["speakerId"],
        }
        for c in visible_calls(ds)
        for p in c["parties"]
    ]


def gong_transcripts(ds: Dataset) -> list[Row]:
    """gong.transcripts rows, one per sentence of a ready transcript."""
    return [
        {
            "call_id": cid,
            "speaker_id": mono["speakerId"],
            "start_ms": s["start"],
            "end_ms": s["end"],
            "text": s["text"],
        }
        for cid, monologues in ds.gong.transcripts.items()
        if transcript_ready(ds, cid)
        for mono in monologues
        for s in mono["sentences"]
    ]


def hubspot_pipelines(ds: Dataset) -> list[Row]:
    """hubspot.pipelines rows."""
    return [
        {
            "id": p["id"],
            "label": p["label"],
            "display_order": p["displayOrder"],
            "archived": p["archived"],
        }
        for p in ds.hubspot.pipelines
    ]


def hubspot_pipeline_stages(ds: Dataset) -> list[Row]:
    """hubspot.pipeline_stages rows (won: closed at probability 1)."""
    rows = []
    for p in ds.hubspot.pipelines:
        for s in p["stages"]:
            closed = s["metadata"]["isClosed"] == "true"
            probability = float(s["metadata"]["probability"])
            rows.append(
                {
                    "id": s["id"],
                    "pipeline_id": p["id"],
                    "label": s["label"],
                    "display_order": s["displayOrder"],
                    "probability": probability,
                    "is_closed": closed,
                    "is_won": closed and probability == 1.0,
                    "archived": s["archived"],
                }
            )
    return rows


TABLES: dict[str, Callable[[Dataset], list[Row]]] = {
    "hubspot.owners": hubspot_owners,
    "hubspot.companies": hubspot_companies,
    "hubspot.contacts": hubspot_contacts,
    "hubspot.deals": hubspot_deals,
    "hubspot.pipelines": hubspot_pipelines,
    "hubspot.pipeline_stages": hubspot_pipeline_stages,
    "asana.users": asana_users,
    "asana.projects": asana_projects,
    "asana.tasks": asana_tasks,
    "slack.users": slack_users,
    "slack.channels": slack_channels,
    "slack.messages": slack_messages,
    "gong.users": gong_users,
    "gong.calls": gong_calls,
    "gong.call_participants": gong_call_participants,
    "gong.transcripts": gong_transcripts,
}


def expected_rows(ds: Dataset, table: str) -> list[Row]:
    """The rows of one warehouse table, sorted by its key."""
    keys = KEYS[table]
    return sorted(TABLES[table](ds), key=lambda row: tuple(str(row[k]) for k in keys))


def counts(ds: Dataset) -> dict[str, Any]:
    """Row counts per table, how many of them are archived, and the hard-deleted ids."""
    tables, archived = {}, {}
    for table, project in TABLES.items():
        rows = project(ds)
        tables[table] = len(rows)
        if table in ARCHIVED_FLAG:
            archived[table] = sum(1 for row in rows if row[ARCHIVED_FLAG[table]])
    return {
        "tables": tables,
        "archived": archived,
        "deleted": {table: list(ids) for table, ids in ds.deleted.items()},
    }
