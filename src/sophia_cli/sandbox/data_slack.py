"""Slack part of the dataset: members (bots and deactivated ones too), channels, threads."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sophia_cli.sandbox import names
from sophia_cli.sandbox.clock import days_ago, slack_ts
from sophia_cli.sandbox.dataset import HubspotData, Person, Record, SlackData, scaled

TEAM_ID = "T0BRIGHTLN"
BOT_USER_ID = "U0SOPHIABOT"
BOT_ID = "B0SOPHIA001"
TOMBSTONE = "tombstone"
TEMPLATES = (
    "Just closed {company}: {amount}k ARR :tada:",
    "Can someone review the pricing proposal for {company} before Friday?",
    "{company} pushed back on pricing again, they want 20% off the platform license",
    "Heads up: {company} is evaluating a competitor, security review is the blocker",
    "Pipeline review moved to Thursday 10am, please update your close dates",
    "Deploying the HubSpot connector fix to production now",
    "Dashboard latency is back to normal after the warehouse resize",
    "Who owns the renewal for {company}? Their champion just left",
    "Great demo with {company} today, they asked for a pilot in Q{quarter}",
    "Reminder: QBR deck for {company} is due tomorrow",
    "Support ticket from {company}: SSO login loops after the last release",
    "Welcome {person} to the team! :wave:",
    "Lunch and learn on the new forecasting model at noon",
    "Updated the onboarding playbook, feedback welcome",
)
REPLIES = (
    "On it",
    "Thanks, taking a look now",
    "+1, let's discuss in standup",
    "Pricing approved up to 15% if they sign this quarter",
    "Can you share the doc?",
    "Looped in legal for the security questionnaire",
    "Nice work!",
    "Done, closing this out",
    "They mentioned the competitor is cheaper but lacks the connectors",
)


def build(
    rng: random.Random, anchor: datetime, scale: float, staff: list[Person], hubspot: HubspotData
) -> SlackData:
    """Members, the channels of names.CHANNELS, and messages with threads before the anchor."""
    data = SlackData(
        TEAM_ID, names.OUR_COMPANY, BOT_USER_ID, BOT_ID, build_users(anchor, staff), {}, {}, {}
    )
    build_channels(data, anchor, staff)
    companies = [c["properties"]["name"] for c in hubspot.objects["companies"].values()]
    humans = [
        u
        for u in sorted(data.users)
        if not data.users[u]["is_bot"] and not data.users[u]["deleted"] and u != "USLACKBOT"
    ]
    channel_ids = sorted(data.channels)
    weights = [0.4 if data.channels[c]["name"] == "watercooler" else 1.0 for c in channel_ids]
    for _ in range(scaled(3000, scale, 60)):
        channel = data.channels[rng.choices(channel_ids, weights)[0]]
        if channel["is_archived"]:
            posted = days_ago(anchor, rng.uniform(400, 700))
        elif rng.random() < 0.4:
            posted = days_ago(anchor, rng.uniform(0.05, 30))
        else:
            posted = days_ago(anchor, rng.uniform(30, 700))
        author = BOT_USER_ID if rng.random() < 0.03 else rng.choice(humans)
        text = rng.choice(TEMPLATES).format(
            company=rng.choice(companies),
            amount=rng.randrange(12, 240),
            quarter=rng.randrange(1, 5),
            person=data.users[rng.choice(humans)]["real_name"],
        )
        message = add_message(data, channel["id"], posted, author, text)
        limit = anchor - timedelta(minutes=1)
        if rng.random() < 0.15 and posted < limit - timedelta(hours=6):
            when = posted
            for _ in range(rng.randrange(1, 7)):
                when = when + timedelta(minutes=rng.uniform(1, 180))
                if when >= limit:
                    break
                add_reply(
                    data,
                    channel["id"],
                    message["ts"],
                    when,
                    rng.choice(humans),
                    rng.choice(REPLIES),
                )
    return data


def build_users(anchor: datetime, staff: list[Person]) -> dict[str, Record]:
    """Staff (the one who left deactivated), our bot, two app bots, Slackbot."""
    users = {}
    for person in staff:
        uid = "U0" + _base36(1_700_000_000 + person.index * 104_729).upper()
        users[uid] = _member(
            uid,
            f"{person.first}.{person.last}".lower(),
            person.name,
            person.email,
            title=person.title,
            deleted=not person.active,
            updated=anchor - timedelta(days=10 + person.index),
        )
    users[BOT_USER_ID] = _member(
        BOT_USER_ID,
        "sophia",
        "Sophia",
        None,
        is_bot=True,
        updated=anchor - timedelta(days=90),
        bot_id=BOT_ID,
    )
    for uid, handle, real in (
        ("U0GITHUBAPP", "github", "GitHub"),
        ("U0PAGERDUTY", "pagerduty", "PagerDuty"),
    ):
        users[uid] = _member(
            uid,
            handle,
            real,
            None,
            is_bot=True,
            updated=anchor - timedelta(days=200),
            bot_id="B" + uid[1:],
        )
    # Slackbot is famously not flagged as a bot.
    users["USLACKBOT"] = _member(
        "USLACKBOT", "slackbot", "Slackbot", None, updated=anchor - timedelta(days=700)
    )
    return users


def _member(
    uid: str,
    handle: str,
    real_name: str,
    email: str | None,
    *,
    title: str = "",
    deleted: bool = False,
    is_bot: bool = False,
    updated: datetime,
    bot_id: str | None = None,
) -> Record:
    """A users.list member record."""
    first, _, last = real_name.partition(" ")
    profile: Record = {
        "real_name": real_name,
        "display_name": handle,
        "title": title,
        "first_name": first,
        "last_name": last,
        "team": TEAM_ID,
    }
    if email:
        profile["email"] = email
    if bot_id:
        profile["bot_id"] = bot_id
    return {
        "id": uid,
        "team_id": TEAM_ID,
        "name": handle,
        "deleted": deleted,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": "Europe/London",
        "tz_offset": 0,
        "profile": profile,
        "is_admin": False,
        "is_owner": False,
        "is_bot": is_bot,
        "is_app_user": False,
        "updated": int(updated.timestamp()),
    }


def build_channels(data: SlackData, anchor: datetime, staff: list[Person]) -> None:
    """The channels of names.CHANNELS."""
    for i, (name, private, member, archived) in enumerate(names.CHANNELS):
        # Slack channel ids are a letter and 8+ more characters (docs/api-facts).
        cid = ("G0" if private else "C0") + _base36(3_000_000_000 + i * 7_919).upper()
        created = int(days_ago(anchor, 760 - i * 3).timestamp())
        data.channels[cid] = {
            "id": cid,
            "name": name,
            "name_normalized": name,
            "is_channel": not private,
            "is_group": private,
            "is_im": False,
            "is_mpim": False,
            "is_private": private,
            "created": created,
            "creator": next(iter(data.users)),
            "is_archived": archived,
            "is_general": name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": member,
            "num_members": len(staff),
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {
                "value": f"Everything about {name.replace('-', ' ')}",
                "creator": "",
                "last_set": created,
            },
        }
        data.messages[cid] = {}
        data.replies[cid] = {}


def next_ts(data: SlackData, when: datetime, *, live: bool = False) -> str:
    """A ts unique in the workspace for a message posted at `when`.

    A live post (a mutation, at the clock's now) gets Slack's own precision, microseconds of
    the moment it was posted, so it never sorts before a sync that started earlier in the
    same second; generated history keeps the serial as its fraction."""
    data.serial += 1
    if not live:
        return slack_ts(when, data.serial)
    data.live_micros = max(round(when.timestamp() * 1_000_000), data.live_micros + 1)
    seconds, micros = divmod(data.live_micros, 1_000_000)
    return f"{seconds}.{micros:06d}"


def add_message(
    data: SlackData, channel: str, when: datetime, user: str, text: str, *, live: bool = False
) -> Record:
    """Post a top-level message."""
    ts = next_ts(data, when, live=live)
    message: Record = {"type": "message", "user": user, "text": text, "ts": ts, "team": TEAM_ID}
    if data.users[user]["is_bot"]:
        message["bot_id"] = data.users[user]["profile"].get("bot_id")
    data.messages[channel][ts] = message
    return message


def add_reply(
    data: SlackData,
    channel: str,
    thread_ts: str,
    when: datetime,
    user: str,
    text: str,
    *,
    live: bool = False,
) -> Record:
    """Post a reply in a thread and update the parent's thread summary like Slack does."""
    parent = data.messages[channel][thread_ts]
    ts = next_ts(data, when, live=live)
    reply = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM_ID,
        "thread_ts": thread_ts,
        "parent_user_id": parent["user"],
    }
    thread = data.replies[channel].setdefault(thread_ts, [])
    thread.append(reply)
    thread.sort(key=lambda r: float(r["ts"]))
    summarise_thread(data, channel, thread_ts)
    return reply


THREAD_FIELDS = ("thread_ts", "reply_count", "reply_users_count", "reply_users", "latest_reply")


def summarise_thread(data: SlackData, channel: str, thread_ts: str) -> None:
    """Rewrite the parent's thread summary from its replies, as Slack does after any change."""
    parent = data.messages[channel][thread_ts]
    thread = data.replies[channel].get(thread_ts) or []
    if not thread:
        data.replies[channel].pop(thread_ts, None)
        for name in (*THREAD_FIELDS, "subscribed"):
            parent.pop(name, None)
        if parent.get("subtype") == TOMBSTONE:  # a deleted parent goes with its last reply
            del data.messages[channel][thread_ts]
        return
    users = sorted({r["user"] for r in thread})
    parent.update(
        {
            "thread_ts": thread_ts,
            "reply_count": len(thread),
            "reply_users_count": len(users),
            "reply_users": users,
            "latest_reply": thread[-1]["ts"],
            "subscribed": False,
        }
    )


def delete_reply(data: SlackData, channel: str, thread_ts: str, reply_ts: str) -> None:
    """Delete one reply; the parent's count and latest reply follow."""
    thread = data.replies[channel][thread_ts]
    thread[:] = [r for r in thread if r["ts"] != reply_ts]
    summarise_thread(data, channel, thread_ts)


def delete_parent(data: SlackData, channel: str, thread_ts: str) -> None:
    """Delete a top-level message: Slack leaves a tombstone while the thread has replies."""
    parent = data.messages[channel][thread_ts]
    if not data.replies[channel].get(thread_ts):
        del data.messages[channel][thread_ts]
        return
    summary = {name: parent[name] for name in THREAD_FIELDS if name in parent}
    parent.clear()
    parent.update(
        {
            "type": "message",
            "subtype": TOMBSTONE,
            "text": "This message was deleted.",
            "user": "USLACKBOT",
            "hidden": True,
            "ts": thread_ts,
            "team": TEAM_ID,
            **summary,
        }
    )


def _base36(number: int) -> str:
    """Lower-case base 36, for Slack-looking ids."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


PARTNER_TEAM_ID = "T0PARTNERS"  # a Slack Connect partner's workspace
PARTNER_DOMAIN = "northwindpartners.com"


def add_external_users(data: SlackData, anchor: datetime, count: int) -> list[str]:
    """`count` Slack Connect guests from a partner workspace, each with one message.

    Their `team_id` is the partner's (users.list lists the members of shared channels too),
    and `user_team` on their messages says the same. Only behind a sandbox option: the demo's
    generated data never includes them.
    """
    channel = next(
        c for c, ch in sorted(data.channels.items()) if ch["is_member"] and not ch["is_archived"]
    )
    added = []
    for n in range(count):
        uid = f"U0PARTNER{n:02d}"
        first, last = ("Robin", "Avery", "Quinn", "Sasha")[n % 4], f"Partner{n + 1}"
        member = _member(
            uid,
            f"{first}.{last}".lower(),
            f"{first} {last}",
            f"{first}.{last}@{PARTNER_DOMAIN}".lower(),
            updated=anchor - timedelta(days=3),
        )
        member["team_id"] = member["profile"]["team"] = PARTNER_TEAM_ID
        data.users[uid] = member
        text = f"Hi from the partner side ({first}): can we review the rollout plan together?"
        message = add_message(data, channel, anchor - timedelta(hours=2 + n), uid, text)
        message["team"] = message["user_team"] = PARTNER_TEAM_ID
        added.append(uid)
    return added
