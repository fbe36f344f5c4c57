"""Deterministic changes between sync runs: updates, adds, archives and deletes in every source.

Which records change depends only on (seed, today, mutation number); the modification times
are the sandbox clock's `now`, later than anything served before, as in the real APIs.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sophia_cli.sandbox import data_asana, data_gong, data_hubspot, data_slack
from sophia_cli.sandbox.clock import iso_ms, ts_moment
from sophia_cli.sandbox.dataset import Dataset, rng_for
from sophia_cli.sandbox.expected import TABLES

Changes = dict[str, dict[str, list[str]]]
MODIFIED_KEY = {
    "deals": "hs_lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "contacts": "lastmodifieddate",
}


def apply_mutation(ds: Dataset, now: datetime) -> dict[str, Any]:
    """Apply mutation number `ds.mutations + 1` and say exactly which ids changed per table."""
    ds.mutations += 1
    rng = rng_for(ds.seed, ds.today, f"mutate:{ds.mutations}")
    changes: Changes = {
        t: {"updated": [], "added": [], "archived": [], "deleted": []} for t in TABLES
    }
    _hubspot(ds, rng, now, changes)
    _asana(ds, rng, now, changes)
    _slack(ds, rng, now, changes)
    _gong(ds, rng, now, changes)
    for table, kinds in changes.items():
        ds.deleted.setdefault(table, []).extend(kinds["deleted"])
        for kind in kinds:
            kinds[kind] = sorted(set(kinds[kind]))
    ds.deleted = {t: ids for t, ids in ds.deleted.items() if ids}
    return {"mutation": ds.mutations, "at": iso_ms(now), "changes": changes}


def _some(rng: random.Random, ids: list[str], share: float, minimum: int) -> int:
    """How many of `ids` to change: a share, at least `minimum`."""
    return min(len(ids), max(minimum, round(len(ids) * share)))


def _hubspot(ds: Dataset, rng: random.Random, now: datetime, changes: Changes) -> None:
    """Update, archive and add CRM records; rename one owner."""
    stamp = iso_ms(now)
    for kind, records in ds.hubspot.objects.items():
        live = sorted(i for i, r in records.items() if not r["archived"])
        n_up, n_arch = _some(rng, live, 0.01, 2), _some(rng, live, 0.002, 1)
        picked = rng.sample(live, n_up + n_arch)
        table = f"hubspot.{kind}"
        for rid in picked[:n_up]:
            update_crm(kind, records[rid], rng, now)
            changes[table]["updated"].append(rid)
        for rid in picked[n_up:]:
            data_hubspot.archive(records[rid], now)
            changes[table]["archived"].append(rid)
        for rid in picked:
            records[rid]["updatedAt"] = stamp
            records[rid]["properties"][MODIFIED_KEY[kind]] = stamp
        for _ in range(_some(rng, live, 0.005, 1)):
            changes[table]["added"].append(_add_crm(ds, kind, rng, now))
    owners = sorted(i for i, o in ds.hubspot.owners.items() if not o["archived"])
    owner = ds.hubspot.owners[rng.choice(owners)]
    owner["lastName"] = owner["lastName"].split("-")[0] + f"-{rng.choice(('Smith', 'Ortiz'))}"
    owner["updatedAt"] = stamp
    changes["hubspot.owners"]["updated"].append(owner["id"])


def update_crm(kind: str, record: dict[str, Any], rng: random.Random, now: datetime) -> None:
    """A visible change: deals advance a stage, companies grow, contacts move on."""
    props = record["properties"]
    if kind == "deals":
        pipeline_id, _, closed = data_hubspot.stage_info(props["dealstage"])
        stages = next(s for p, _, s in data_hubspot.PIPELINES if p == pipeline_id)
        if not closed:
            order = [s[0] for s in stages]
            props["dealstage"] = order[min(order.index(props["dealstage"]) + 1, len(order) - 2)]
            props.update(data_hubspot.stage_flags(props["dealstage"]))
            if props["hs_is_closed"] == "true":
                props["closedate"] = iso_ms(now.replace(hour=0, minute=0, second=0, microsecond=0))
        props["amount"] = str(int(round(float(props["amount"] or 0) * 1.1, -2)))
    elif kind == "companies":
        props["numberofemployees"] = str(int(props["numberofemployees"]) + rng.randrange(1, 40))
    else:
        cycle = data_hubspot.LIFECYCLE
        current = props.get("lifecyclestage") or cycle[0]
        props["lifecyclestage"] = cycle[(cycle.index(current) + 1) % len(cycle)]


def _add_crm(ds: Dataset, kind: str, rng: random.Random, now: datetime) -> str:
    """A new record created now; returns its id."""
    hub = ds.hubspot
    companies = sorted(i for i, c in hub.objects["companies"].items() if not c["archived"])
    company = hub.objects["companies"][rng.choice(companies)]
    rid = str(hub.next_id[kind])
    hub.next_id[kind] += 13
    owner = company["properties"]["hubspot_owner_id"]
    if kind == "deals":
        stage = "appointmentscheduled"
        props = {
            "dealname": f"{company['properties']['name']} - New opportunity",
            "amount": str(rng.randrange(50, 600) * 100),
            "pipeline": "default",
            "dealstage": stage,
            "hubspot_owner_id": owner,
            "dealtype": "newbusiness",
            "closedate": iso_ms(
                (now + timedelta(days=45)).replace(hour=0, minute=0, second=0, microsecond=0)
            ),
            **data_hubspot.stage_flags(stage),
        }
    elif kind == "companies":
        name = f"{company['properties']['name'].split(' ')[0]} Ventures {rid[-4:]}"
        props = {
            "name": name,
            "domain": f"ventures{rid[-4:]}.com",
            "industry": "COMPUTER_SOFTWARE",
            "numberofemployees": "40",
            "annualrevenue": "4000000",
            "hubspot_owner_id": owner,
        }
    else:
        props = {
            "email": f"new.contact{rid[-5:]}@{company['properties']['domain']}",
            "firstname": "Alex",
            "lastname": f"Morgan{rid[-3:]}",
            "lifecyclestage": "lead",
            "associatedcompanyid": company["id"],
            "hubspot_owner_id": owner,
        }
    record = data_hubspot.new_record(rid, props, now, now, MODIFIED_KEY[kind])
    if kind != "companies":
        record["_company"] = company["id"]
    hub.objects[kind][rid] = record
    return rid


def _asana(ds: Dataset, rng: random.Random, now: datetime, changes: Changes) -> None:
    """Complete or rename tasks, delete some, add some, touch one project."""
    asana, stamp = ds.asana, iso_ms(now)
    live = sorted(asana.tasks)
    n_up, n_del = _some(rng, live, 0.01, 2), _some(rng, live, 0.002, 1)
    picked = rng.sample(live, n_up + n_del)
    for gid in picked[:n_up]:
        task = asana.tasks[gid]
        if not task["completed"]:
            task.update(completed=True, completed_at=stamp)
            field_name = "completed"
        else:
            task["name"] = task["name"].split(" [rev")[0] + f" [rev {ds.mutations}]"
            field_name = "name"
        task["modified_at"] = stamp
        asana.events.record("changed", task, stamp, field_name)
        changes["asana.tasks"]["updated"].append(gid)
    for gid in picked[n_up:]:
        if gid not in asana.tasks:
            continue  # a subtask deleted with its parent just before
        # Asana deletes vanish from every listing, and a task's subtasks go with it.
        doomed = [gid, *(g for g, t in asana.tasks.items() if t.get("_parent") == gid)]
        for gone in doomed:
            asana.events.record("deleted", asana.tasks[gone], stamp)
            parent = asana.tasks[gone].get("_parent")
            if parent in asana.tasks:
                asana.tasks[parent]["num_subtasks"] -= 1
            del asana.tasks[gone]
            if gone in changes["asana.tasks"]["updated"]:
                changes["asana.tasks"]["updated"].remove(gone)
            changes["asana.tasks"]["deleted"].append(gone)
    projects = sorted(g for g, p in asana.projects.items() if not p["archived"])
    users = sorted(asana.users)
    for _ in range(_some(rng, live, 0.005, 1)):
        gid = str(asana.next_gid)
        asana.next_gid += 7
        project = asana.projects[rng.choice(projects)]
        name = f"{rng.choice(('Follow up on', 'Prepare', 'Review'))} mutation {ds.mutations} item"
        asana.tasks[gid] = data_asana.new_task(
            gid,
            name,
            project,
            asana.workspace,
            asana.users[rng.choice(users)],
            now,
            now,
            (now + timedelta(days=7)).date().isoformat(),
            None,
        )
        asana.events.record("added", asana.tasks[gid], stamp)
        changes["asana.tasks"]["added"].append(gid)
    project = asana.projects[rng.choice(projects)]
    project["modified_at"] = stamp
    changes["asana.projects"]["updated"].append(project["gid"])


def _slack(ds: Dataset, rng: random.Random, now: datetime, changes: Changes) -> None:
    """Delete, edit, reply, post, and rename one member."""
    slack = ds.slack
    open_channels = sorted(
        c for c, ch in slack.channels.items() if ch["is_member"] and not ch["is_archived"]
    )
    humans = sorted(
        u
        for u, m in slack.users.items()
        if not m["is_bot"] and not m["deleted"] and u != "USLACKBOT"
    )
    table = changes["slack.messages"]
    # Deletes first, and only of messages a previous mutation posted (recent, thread-less).
    posted_before = sorted(
        (c, ts)
        for c in open_channels
        for ts, m in slack.messages[c].items()
        if m.get("_mutation") and not m.get("reply_count")
    )
    for channel, ts in rng.sample(posted_before, min(1, len(posted_before))):
        del slack.messages[channel][ts]
        table["deleted"].append(f"{channel}:{ts}")
    recent = sorted(
        (c, ts)
        for c in open_channels
        for ts in slack.messages[c]
        if ts_moment(ts) > ds.anchor - timedelta(days=14)
    )
    for channel, ts in rng.sample(recent, min(len(recent), 2)):
        message = slack.messages[channel][ts]
        message["text"] = message["text"].split(" (edited")[0] + f" (edited {ds.mutations})"
        edited_ts = data_slack.next_ts(slack, now, live=True)
        message["edited"] = {"user": message["user"], "ts": edited_ts}
        table["updated"].append(f"{channel}:{ts}")
    if recent:
        channel, ts = rng.choice(recent)
        reply = data_slack.add_reply(
            slack, channel, ts, now, rng.choice(humans), "Following up on this one", live=True
        )
        table["added"].append(f"{channel}:{reply['ts']}")
        table["updated"].append(f"{channel}:{ts}")
    total = sum(len(m) for m in slack.messages.values())
    for _ in range(max(2, round(total * 0.003))):
        channel = rng.choice(open_channels)
        message = data_slack.add_message(
            slack,
            channel,
            now,
            rng.choice(humans),
            f"Update {ds.mutations}: pipeline numbers refreshed",
            live=True,
        )
        message["_mutation"] = ds.mutations
        table["added"].append(f"{channel}:{message['ts']}")
    member = slack.users[rng.choice(humans)]
    first, _, last = member["real_name"].partition(" ")
    member["real_name"] = f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last.split('. ')[-1]}"
    member["profile"]["real_name"] = member["real_name"]
    member["updated"] = int(now.timestamp())
    changes["slack.users"]["updated"].append(member["id"])


def _gong(ds: Dataset, rng: random.Random, now: datetime, changes: Changes) -> None:
    """Advance processing and record two new calls."""
    gong = ds.gong
    for call_id in sorted(gong.call_wait):
        gong.call_wait[call_id] -= 1
        if gong.call_wait[call_id] == 0:
            for table in ("gong.calls", "gong.call_participants"):
                changes[table]["added"].append(call_id)
    for call_id in sorted(gong.transcript_wait):
        gong.transcript_wait[call_id] -= 1
        if gong.transcript_wait[call_id] == 0:
            changes["gong.transcripts"]["added"].append(call_id)
    gong.call_wait = {c: w for c, w in gong.call_wait.items() if w > 0}
    gong.transcript_wait = {c: w for c, w in gong.transcript_wait.items() if w > 0}
    companies = sorted(c for c, r in ds.hubspot.objects["companies"].items() if not r["archived"])
    contacts = [c for c in ds.hubspot.objects["contacts"].values() if not c["archived"]]
    next_id = max(int(c) for c in gong.calls) + 97
    for offset, (call_wait, transcript_wait) in enumerate(((0, 1), (1, 2))):
        company = ds.hubspot.objects["companies"][rng.choice(companies)]
        guests = [c for c in contacts if c.get("_company") == company["id"]]
        started = (now - timedelta(minutes=50 - offset * 10)).replace(microsecond=0)
        call_id = str(next_id + offset * 97)
        data_gong.add_call(
            gong, rng, call_id, started, rng.choice(sorted(gong.users)), company, guests
        )
        gong.transcript_wait[call_id] = transcript_wait
        if call_wait:
            gong.call_wait[call_id] = call_wait
        else:
            for table in ("gong.calls", "gong.call_participants"):
                changes[table]["added"].append(call_id)


def add_late_reply(ds: Dataset, now: datetime, age_hours: float) -> dict[str, Any]:
    """Reply, now, in the thread of the message posted nearest `age_hours` before the anchor."""
    target = ds.anchor - timedelta(hours=age_hours)
    slack = ds.slack
    candidates = [
        (abs((ts_moment(ts) - target).total_seconds()), c, ts)
        for c, ch in sorted(slack.channels.items())
        if ch["is_member"] and not ch["is_archived"]
        for ts in slack.messages[c]
    ]
    if not candidates:
        raise ValueError("no message to reply to")
    _, channel, parent_ts = min(candidates)
    ds.late_replies += 1
    humans = sorted(
        u
        for u, m in slack.users.items()
        if not m["is_bot"] and not m["deleted"] and u != "USLACKBOT"
    )
    reply = data_slack.add_reply(
        slack,
        channel,
        parent_ts,
        now,
        humans[ds.late_replies % len(humans)],
        "Late reply: circling back on this one",
        live=True,
    )
    return {
        "channel": channel,
        "thread_ts": parent_ts,
        "ts": reply["ts"],
        "id": f"{channel}:{reply['ts']}",
        "parent_posted_at": iso_ms(ts_moment(parent_ts)),
    }


THREAD_CHANGES = ("edit_reply", "delete_reply", "delete_parent")


def change_thread(ds: Dataset, now: datetime, kind: str) -> dict[str, Any]:
    """Edit or delete a reply, or delete a thread's parent, in a thread active in 14 days.

    Editing or deleting an older reply leaves the parent's `latest_reply` where it was, which
    is what a sync that only watches parents misses.
    """
    if kind not in THREAD_CHANGES:
        raise ValueError(f"kind must be one of {', '.join(THREAD_CHANGES)}")
    slack = ds.slack
    threads = sorted(
        (c, ts)
        for c, ch in slack.channels.items()
        if ch["is_member"] and not ch["is_archived"]
        for ts, replies in slack.replies[c].items()
        if len(replies) >= 2
        and ts_moment(replies[-1]["ts"]) > ds.anchor - timedelta(days=14)
        and slack.messages[c][ts].get("subtype") != data_slack.TOMBSTONE
    )
    if not threads:
        raise ValueError("no thread with two replies active in the last 14 days")
    ds.mutations += 1
    channel, thread_ts = threads[ds.mutations % len(threads)]
    first = slack.replies[channel][thread_ts][0]  # never the latest: the parent stays put
    if kind == "edit_reply":
        first["text"] = first["text"].split(" (edited")[0] + f" (edited {ds.mutations})"
        first["edited"] = {"user": first["user"], "ts": data_slack.next_ts(slack, now, live=True)}
    elif kind == "delete_reply":
        data_slack.delete_reply(slack, channel, thread_ts, first["ts"])
    else:
        data_slack.delete_parent(slack, channel, thread_ts)
    return {
        "kind": kind,
        "channel": channel,
        "thread_ts": thread_ts,
        "reply_ts": first["ts"],
        "latest_reply": slack.messages[channel][thread_ts].get("latest_reply"),
    }


ASANA_CHANGES = ("delete_task", "edit_subtask", "delete_subtask")


def change_asana(ds: Dataset, now: datetime, kind: str) -> dict[str, Any]:
    """Delete a task that has subtasks, or edit or delete a subtask, and nothing else.

    None of these moves a project task's `modified_at`: a deletion leaves every listing and
    a subtask is in no project's listing, so only the event streams (or a sweep) tell.
    """
    if kind not in ASANA_CHANGES:
        raise ValueError(f"kind must be one of {', '.join(ASANA_CHANGES)}")
    asana, stamp = ds.asana, iso_ms(now)
    subtasks = sorted(g for g, t in asana.tasks.items() if t.get("_parent"))
    if not subtasks:
        raise ValueError("no subtask to change")
    ds.mutations += 1
    pick = asana.tasks[subtasks[ds.mutations % len(subtasks)]]
    if kind == "edit_subtask":
        pick["name"] = pick["name"].split(" [edited")[0] + f" [edited {ds.mutations}]"
        pick["modified_at"] = stamp
        asana.events.record("changed", pick, stamp, "name")
        return {"kind": kind, "gid": pick["gid"], "parent_gid": pick["_parent"]}
    parent_gid = pick["_parent"]
    if kind == "delete_task":  # the top-level task above the picked subtask, with all below
        while asana.tasks[parent_gid].get("_parent"):
            parent_gid = asana.tasks[parent_gid]["_parent"]
        doomed = _with_descendants(asana.tasks, parent_gid)
    else:
        doomed = _with_descendants(asana.tasks, pick["gid"])
        asana.tasks[parent_gid]["num_subtasks"] -= 1
    for gid in doomed:
        asana.events.record("deleted", asana.tasks[gid], stamp)
    for gid in doomed:
        del asana.tasks[gid]
    ds.deleted.setdefault("asana.tasks", []).extend(doomed)
    return {"kind": kind, "deleted": doomed, "parent_gid": parent_gid}


def _with_descendants(tasks: dict[str, Any], gid: str) -> list[str]:
    """`gid` and every task below it."""
    found, frontier = [gid], [gid]
    while frontier:
        frontier = sorted(g for g, t in tasks.items() if t.get("_parent") in frontier)
        found.extend(frontier)
    return found
