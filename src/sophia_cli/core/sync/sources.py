"""One declaration per source: everything about a source that is not its HTTP code.

The connector registry, doctor's source checks, the query guard's schemas, the reader
role's grants (`db upgrade`), search's sources and author names, ask's source words and
the help texts all derive from `SOURCES`. A new source is one declaration here, one
connector module (`connectors/<name>.py`, whose streams must match the declaration), one
migration for its schema, and its fake in the sandbox.

This module is plain data and imports nothing heavy: the query guard and `--help` read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a stream's listing pages (the classes are in `paging.KINDS`): Gong's `records.cursor`,
# Slack's `response_metadata.next_cursor`, Asana's `next_page.offset`, HubSpot's
# `paging.next.after`; HubSpot search pages by keyset, and "none" is one response.
Paginator = Literal["cursor", "slack_cursor", "offset", "after", "keyset", "none"]


@dataclass(frozen=True)
class TableDecl:
    """A warehouse table of the source: its key and, when its text is searchable, the kind."""

    name: str
    key: tuple[str, ...]
    text_kind: str | None = None


@dataclass(frozen=True)
class StreamDecl:
    """A stream, the table it fills, and the stream whose rows it reads per parent.

    A child stream runs after its parent in the same run and receives the parent's rows
    from the engine in memory (so a dry run counts children like a real run).
    """

    name: str
    table: str
    parent: str | None = None
    paginator: Paginator = "cursor"


@dataclass(frozen=True)
class SourceDecl:
    """A source: its name (= warehouse schema), settings, tables and streams.

    `people_sql` selects (id, display name) of the source's authors for ids in `%(ids)s`;
    search names the authors of hits with it.
    """

    name: str
    title: str
    token_variables: tuple[str, ...]
    base_url_setting: str
    tables: tuple[TableDecl, ...]
    streams: tuple[StreamDecl, ...]
    people_sql: tuple[str, ...] = ()

    @property
    def schema(self) -> str:
        return self.name

    @property
    def searchable(self) -> bool:
        return any(table.text_kind is not None for table in self.tables)

    def stream(self, name: str) -> StreamDecl:
        return next(s for s in self.streams if s.name == name)


SOURCES: tuple[SourceDecl, ...] = (
    SourceDecl(
        name="slack",
        title="Slack",
        token_variables=("SLACK_BOT_TOKEN",),
        base_url_setting="slack_api_base",
        tables=(
            TableDecl("slack.users", ("id",)),
            TableDecl("slack.channels", ("id",)),
            TableDecl("slack.messages", ("channel_id", "ts"), text_kind="message"),
        ),
        streams=(
            StreamDecl("users", "slack.users", paginator="slack_cursor"),
            StreamDecl("channels", "slack.channels", paginator="slack_cursor"),
            StreamDecl("messages", "slack.messages", parent="channels", paginator="slack_cursor"),
        ),
        people_sql=(
            "SELECT id, coalesce(nullif(real_name, ''), name) FROM slack.users"
            " WHERE id = ANY(%(ids)s)",
        ),
    ),
    SourceDecl(
        name="asana",
        title="Asana",
        token_variables=("ASANA_PAT_TOKEN",),
        base_url_setting="asana_api_base",
        tables=(
            TableDecl("asana.users", ("gid",)),
            TableDecl("asana.projects", ("gid",)),
            TableDecl("asana.tasks", ("gid",), text_kind="task"),
        ),
        streams=(
            StreamDecl("users", "asana.users", paginator="offset"),
            StreamDecl("projects", "asana.projects", paginator="offset"),
            StreamDecl("tasks", "asana.tasks", parent="projects", paginator="offset"),
        ),
        people_sql=("SELECT gid, name FROM asana.users WHERE gid = ANY(%(ids)s)",),
    ),
    SourceDecl(
        name="hubspot",
        title="HubSpot",
        token_variables=("HUBSPOT_API_KEY",),
        base_url_setting="hubspot_api_base",
        tables=(
            TableDecl("hubspot.owners", ("id",)),
            TableDecl("hubspot.companies", ("id",)),
            TableDecl("hubspot.contacts", ("id",)),
            TableDecl("hubspot.deals", ("id",)),
            TableDecl("hubspot.pipelines", ("id",)),
            TableDecl("hubspot.pipeline_stages", ("pipeline_id", "id")),
        ),
        streams=(
            StreamDecl("owners", "hubspot.owners", paginator="after"),
            StreamDecl("pipelines", "hubspot.pipelines", paginator="none"),
            StreamDecl("companies", "hubspot.companies", paginator="keyset"),
            StreamDecl("contacts", "hubspot.contacts", paginator="keyset"),
            StreamDecl("deals", "hubspot.deals", paginator="keyset"),
        ),
    ),
    SourceDecl(
        name="gong",
        title="Gong",
        token_variables=("GONG_ACCESS_KEY", "GONG_ACCESS_KEY_SECRET"),
        base_url_setting="gong_api_base",
        tables=(
            TableDecl("gong.users", ("id",)),
            TableDecl("gong.calls", ("id",)),
            TableDecl("gong.call_participants", ("call_id", "party_id")),
            TableDecl("gong.transcripts", ("call_id", "speaker_id", "start_ms"), "transcript"),
        ),
        streams=(
            StreamDecl("users", "gong.users"),
            StreamDecl("calls", "gong.calls"),
            StreamDecl("transcripts", "gong.transcripts", parent="calls"),
        ),
        people_sql=(
            "SELECT DISTINCT speaker_id, name FROM gong.call_participants"
            " WHERE speaker_id = ANY(%(ids)s) AND name IS NOT NULL",
            "SELECT id, concat_ws(' ', first_name, last_name) FROM gong.users"
            " WHERE id = ANY(%(ids)s)",
        ),
    ),
)

NAMES: tuple[str, ...] = tuple(source.name for source in SOURCES)
SCHEMAS: tuple[str, ...] = tuple(source.schema for source in SOURCES)
SEARCHABLE: tuple[str, ...] = tuple(source.name for source in SOURCES if source.searchable)


def declared(name: str) -> SourceDecl | None:
    """The declaration of source `name`, or None."""
    return next((source for source in SOURCES if source.name == name), None)


def people_sql() -> str:
    """(id, name) of every source's authors whose id is in `%(ids)s`, one UNION ALL."""
    return "\nUNION ALL ".join(sql for source in SOURCES for sql in source.people_sql)


def spoken(words: tuple[str, ...], last: str = "and") -> str:
    """'a, b and c': source names or titles in help texts."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


TITLES: str = spoken(tuple(source.title for source in SOURCES))
