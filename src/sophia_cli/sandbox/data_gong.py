"""Gong part of the dataset: users (the sales team), calls with parties, and transcripts."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sophia_cli.sandbox import names
from sophia_cli.sandbox.clock import days_ago, iso_s
from sophia_cli.sandbox.data_hubspot import sales_people
from sophia_cli.sandbox.dataset import GongData, HubspotData, Person, Record, scaled

WORKSPACE_ID = "623457276584334"
CALL_ID_BASE = 7_782_342_274_025_900_000
SPEAKER_ID_BASE = 6_432_345_678_555_000_000
PURPOSES = (
    "Discovery call",
    "Product demo",
    "Pricing discussion",
    "Renewal review",
    "Security review",
    "Technical deep dive",
    "Kickoff",
    "QBR",
)
SENTENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # topic: (what our side says, what the customer says)
    "Introduction": (
        ("Thanks for making time today.", "Let me quickly recap where we left off."),
        ("Happy to be here.", "We have about thirty minutes, so let's dive in."),
    ),
    "Pricing": (
        (
            "We can offer a multi-year discount if you commit this quarter.",
            "The platform license includes the standard connectors.",
            "I can check whether we can match that number.",
        ),
        (
            "Honestly, the price is the sticking point for us.",
            "Your quote is about thirty percent above what we budgeted.",
            "Vizly quoted us a lot less for a similar package.",
            "We'd need a discount to get this past procurement.",
        ),
    ),
    "Security": (
        (
            "We're SOC 2 Type II certified and can share the report under NDA.",
            "Single sign-on and audit logs are included.",
        ),
        (
            "Our security team needs the questionnaire completed first.",
            "Where is the data stored, and who can access it?",
        ),
    ),
    "Competition": (
        ("Unlike Quantive, we sync HubSpot and Gong out of the box.",),
        (
            "We're also evaluating Quantive and Vizly.",
            "The other vendor's dashboards felt slower in the trial.",
        ),
    ),
    "Next Steps": (
        ("I'll send the revised proposal by Friday.", "Let's book a follow-up with your CFO."),
        (
            "Send over the contract and we'll review it with legal.",
            "We'll decide by the end of the month.",
        ),
    ),
}


def build(
    rng: random.Random, anchor: datetime, scale: float, staff: list[Person], hubspot: HubspotData
) -> GongData:
    """Users and calls over two years; the last few calls and transcripts are still processing."""
    data = GongData(WORKSPACE_ID, build_users(anchor, sales_people(staff)), {}, {})
    user_ids = sorted(data.users)
    companies = [c for _, c in sorted(hubspot.objects["companies"].items()) if not c["archived"]]
    contacts_by_company: dict[str, list[Record]] = {}
    for contact in hubspot.objects["contacts"].values():
        contacts_by_company.setdefault(contact["_company"], []).append(contact)
    count = scaled(600, scale, 20)
    for i in range(count):
        if i >= count - 4:  # the freshest calls, within the day before the anchor
            started = anchor - timedelta(hours=2 + (count - i) * 3, minutes=rng.uniform(0, 50))
        elif rng.random() < 0.3:
            started = days_ago(anchor, rng.uniform(1, 60))
        else:
            started = days_ago(anchor, rng.uniform(1, 725))
        started = started.replace(microsecond=0)
        company = companies[rng.randrange(len(companies))]
        add_call(
            data,
            rng,
            str(CALL_ID_BASE + i * 97),
            started,
            rng.choice(user_ids),
            company,
            contacts_by_company.get(company["id"], []),
        )
    fresh = sorted(data.calls, key=lambda c: data.calls[c]["metaData"]["started"])[-4:]
    for call_id in fresh[2:]:  # not processed yet: call hidden, transcript later still
        data.call_wait[call_id] = 1
        data.transcript_wait[call_id] = 2
    for call_id in fresh[:2]:  # call visible, transcript not yet
        data.transcript_wait[call_id] = 1
    return data


def build_users(anchor: datetime, sales: list[Person]) -> dict[str, Record]:
    """One Gong user per sales person."""
    users = {}
    for person in sales:
        uid = str(234_599_484_848_000 + person.index)
        users[uid] = {
            "id": uid,
            "emailAddress": person.email,
            "created": iso_s(days_ago(anchor, 800)),
            "active": person.active,
            "emailAliases": [],
            "trustedEmailAddress": person.email,
            "firstName": person.first,
            "lastName": person.last,
            "title": person.title,
            "phoneNumber": None,
            "extension": None,
            "personalMeetingUrls": [],
            "managerId": None,
            "meetingConsentPageUrl": None,
            "settings": {
                "webConferencesRecorded": True,
                "telephonyCallsImported": False,
                "emailsImported": True,
                "gongConnectEnabled": True,
            },
            "spokenLanguages": [{"language": "en-US", "primary": True}],
        }
    return users


def add_call(
    data: GongData,
    rng: random.Random,
    call_id: str,
    started: datetime,
    user_id: str,
    company: Record,
    contacts: list[Record],
) -> Record:
    """A recorded external (or internal) call with its parties and transcript."""
    external = rng.random() < 0.85
    phone = external and rng.random() < 0.15  # a dialer call: no schedule, audio only
    company_name = company["properties"]["name"]
    purpose = rng.choice(PURPOSES)
    title = (
        f"{company_name} / {names.OUR_COMPANY} - {purpose}"
        if external
        else (f"Internal: {company_name} deal strategy")
    )
    user = data.users[user_id]
    parties = [
        _party(
            call_id,
            0,
            f"{user['firstName']} {user['lastName']}",
            user["emailAddress"],
            "Internal",
            user_id,
        )
    ]
    guests = rng.sample(contacts, min(len(contacts), rng.randrange(1, 4))) if external else []
    for n, contact in enumerate(guests, start=1):
        props = contact["properties"]
        parties.append(
            _party(
                call_id,
                n,
                f"{props['firstname']} {props['lastname']}",
                props["email"],
                "External",
                None,
            )
        )
    if not external or not guests:
        colleague = data.users[rng.choice(sorted(data.users))]
        parties.append(
            _party(
                call_id,
                len(parties),
                f"{colleague['firstName']} {colleague['lastName']}",
                colleague["emailAddress"],
                "Internal",
                colleague["id"],
            )
        )
    transcript, topics = _transcript(rng, parties)
    duration = max(600, transcript[-1]["sentences"][-1]["end"] // 1000 + rng.randrange(60, 900))
    data.calls[call_id] = {
        "metaData": {
            "id": call_id,
            "url": f"https://app.gong.io/call?id={call_id}",
            "title": title,
            "scheduled": None if phone else iso_s(started - timedelta(minutes=rng.randrange(1, 4))),
            "started": iso_s(started),
            "duration": duration,
            "primaryUserId": user_id,
            "direction": "Outbound" if phone else "Conference",
            "system": "Aircall" if phone else rng.choice(("Zoom", "Google Meet", "Teams")),
            "scope": "External" if external else "Internal",
            "media": "Audio" if phone else "Video",
            "language": "eng",
            "workspaceId": WORKSPACE_ID,
            "sdrDisposition": None,
            "clientUniqueId": None,
            "customData": None,
            "purpose": purpose,
            "meetingUrl": None if phone else "https://zoom.us/j/95551234567",
            "isPrivate": False,
            "calendarEventId": f"evt{call_id[-8:]}",
        },
        "parties": parties,
        "_company": company["id"],
        "content": {
            "topics": [{"name": t, "duration": d} for t, d in topics.items()],
            "brief": f"{purpose} with {company_name}.",
            "trackers": [
                {
                    "id": "1001",
                    "name": "Pricing objection",
                    "type": "KEYWORD",
                    "count": topics.get("Pricing", 0) // 30,
                }
            ],
        },
        "interaction": {
            "speakers": [{"id": p["id"], "userId": p["userId"], "talkTime": 0.0} for p in parties],
            "questions": {
                "companyCount": rng.randrange(2, 12),
                "nonCompanyCount": rng.randrange(0, 8),
            },
        },
    }
    data.transcripts[call_id] = transcript
    return data.calls[call_id]


def _party(
    call_id: str, n: int, name: str, email: str, affiliation: str, user_id: str | None
) -> Record:
    """A call participant with ids derived from the call id."""
    serial = int(call_id) % 1_000_000 * 10 + n
    return {
        "id": str(3_095_443_218_000_000 + serial),
        "emailAddress": email,
        "name": name,
        "title": None,
        "userId": user_id,
        "speakerId": str(SPEAKER_ID_BASE + serial),
        "affiliation": affiliation,
        "phoneNumber": None,
        "methods": ["Invitee", "Attendee"] if affiliation == "Internal" else ["Attendee"],
        "context": [],
    }


def _transcript(rng: random.Random, parties: list[Record]) -> tuple[list[Record], dict[str, int]]:
    """Monologues that alternate between our side and the customer, topic by topic."""
    ours = [p for p in parties if p["affiliation"] == "Internal"]
    theirs = [p for p in parties if p["affiliation"] == "External"] or ours
    topics = [
        "Introduction",
        *rng.sample(("Pricing", "Security", "Competition"), rng.randrange(1, 4)),
        "Next Steps",
    ]
    clock, monologues, durations = rng.randrange(200, 900), [], {}
    for topic in topics:
        began = clock
        for side in range(rng.randrange(2, 5)):
            speaker = rng.choice(ours if side % 2 == 0 else theirs)
            pool = SENTENCES[topic][side % 2]
            sentences = []
            for text in rng.sample(pool, rng.randrange(1, len(pool) + 1)):
                length = 1200 + 70 * len(text) + rng.randrange(0, 800)
                sentences.append({"start": clock, "end": clock + length, "text": text})
                clock += length + rng.randrange(100, 700)
            label = None if topic == "Introduction" else topic
            monologues.append(
                {"speakerId": speaker["speakerId"], "topic": label, "sentences": sentences}
            )
        durations[topic] = (clock - began) // 1000
    return monologues, durations
