"""The synthetic company every fake serves: pure and deterministic from seed, scale and today.

Records are kept in (nearly) the shape each API returns, so the fakes serve them with little
translation; `expected.py` projects them onto the warehouse contract. Fields that start with
an underscore are the sandbox's own bookkeeping and are never served.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from sophia_cli.core.errors import UsageError
from sophia_cli.sandbox import names
from sophia_cli.sandbox.asana_events import EventLog
from sophia_cli.sandbox.clock import anchor_for

Record = dict[str, Any]
Scenario = Literal["default", "hubspot_bulk_import"]
BULK_IMPORT_SIZE = 10_500


@dataclass(frozen=True)
class Person:
    """One employee of the synthetic company; the same person appears in every source."""

    index: int
    first: str
    last: str
    email: str
    title: str
    active: bool = True

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"


@dataclass
class HubspotData:
    owners: dict[str, Record]
    objects: dict[str, dict[str, Record]]  # "deals" | "companies" | "contacts" -> id -> record
    pipelines: list[Record]
    next_id: dict[str, int]
    # Records merged into another one: gone from every listing, kept here for the truth.
    merged: dict[str, dict[str, Record]] = field(default_factory=dict)


@dataclass
class AsanaData:
    workspace: Record
    teams: dict[str, Record]
    users: dict[str, Record]
    projects: dict[str, Record]
    tasks: dict[str, Record]
    next_gid: int
    # What changed since the sandbox started, as Asana's event streams serve it (no
    # generated value depends on it: it starts empty and only changes record into it).
    events: EventLog = field(default_factory=EventLog)


@dataclass
class SlackData:
    team_id: str
    team_name: str
    bot_user_id: str
    bot_id: str
    users: dict[str, Record]
    channels: dict[str, Record]
    messages: dict[str, dict[str, Record]]  # channel -> ts -> top-level message
    replies: dict[str, dict[str, list[Record]]]  # channel -> thread_ts -> replies, ascending
    serial: int = 0
    live_micros: int = 0  # the latest ts minted for a live post, in microseconds


@dataclass
class GongData:
    workspace_id: str
    users: dict[str, Record]
    calls: dict[str, Record]  # id -> {"metaData", "parties", "content"}
    transcripts: dict[str, list[Record]]  # call id -> monologues
    call_wait: dict[str, int] = field(default_factory=dict)  # mutations until a call shows
    transcript_wait: dict[str, int] = field(default_factory=dict)


@dataclass
class Dataset:
    seed: int
    scale: float
    today: date
    scenario: Scenario
    anchor: datetime
    staff: list[Person]
    hubspot: HubspotData
    asana: AsanaData
    slack: SlackData
    gong: GongData
    mutations: int = 0
    late_replies: int = 0
    deleted: dict[str, list[str]] = field(default_factory=dict)


def scaled(base: int, scale: float, minimum: int) -> int:
    """`base * scale`, rounded, never below `minimum`."""
    return max(minimum, round(base * scale))


def rng_for(seed: int, today: date, part: str) -> random.Random:
    """An independent, reproducible random stream per part of the dataset."""
    return random.Random(f"sophia-sandbox:{seed}:{today.isoformat()}:{part}")


def build_staff(seed: int, today: date, scale: float) -> list[Person]:
    """The employees: sales people first (they own deals and record calls), then the rest."""
    rng = rng_for(seed, today, "staff")
    count = max(12, min(400, round(45 * scale)))
    owners = owner_count(scale)
    others = (
        "Product Manager",
        "Software Engineer",
        "Customer Success Manager",
        "Designer",
        "Marketing Manager",
        "Data Analyst",
        "Support Engineer",
        "Finance Lead",
    )
    people = []
    for i, (first, last) in enumerate(names.unique_people(rng, count)):
        if i < owners:
            title = "Sales Manager" if i % 8 == 0 else "Account Executive"
        else:
            title = others[i % len(others)]
        email = names.email_for(first, last, names.OUR_DOMAIN)
        # The last owner has left the company: archived in HubSpot, deactivated in Slack.
        people.append(Person(i, first, last, email, title, active=(i != owners - 1)))
    return people


def owner_count(scale: float) -> int:
    """How many HubSpot owners (and Gong users) the company has."""
    return scaled(25, min(scale, 4.0), 5)


# Above this the company no longer fits comfortably in one process's memory.
MAX_SCALE = 20.0


def build_dataset(
    *, seed: int = 7, scale: float = 1.0, today: date, scenario: Scenario = "default"
) -> Dataset:
    """Generate the whole company for (seed, scale, today, scenario); same inputs, same data."""
    from sophia_cli.sandbox import data_asana, data_gong, data_hubspot, data_slack

    if not 0 < scale <= MAX_SCALE:
        raise UsageError(f"--scale must be above 0 and at most {MAX_SCALE:g} (got {scale:g})")
    anchor = anchor_for(today)
    staff = build_staff(seed, today, scale)
    hubspot = data_hubspot.build(rng_for(seed, today, "hubspot"), anchor, scale, staff)
    if scenario == "hubspot_bulk_import":
        data_hubspot.add_bulk_import(
            rng_for(seed, today, "bulk"), hubspot, anchor, BULK_IMPORT_SIZE
        )
    asana = data_asana.build(rng_for(seed, today, "asana"), anchor, scale, staff)
    slack = data_slack.build(rng_for(seed, today, "slack"), anchor, scale, staff, hubspot)
    gong = data_gong.build(rng_for(seed, today, "gong"), anchor, scale, staff, hubspot)
    return Dataset(seed, scale, today, scenario, anchor, staff, hubspot, asana, slack, gong)
