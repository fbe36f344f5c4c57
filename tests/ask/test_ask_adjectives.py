"""Adjectives narrow a model's rows and the answer says so: "archived" (Asana projects and
Slack channels), "private" and "public" (Slack channels)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from ask_fixture_data import AS_OF, load
from ask_helpers import clone_database, drop_database, interp

from sophia_cli.core.bi.ask import ask
from sophia_cli.core.errors import NotUnderstoodError
from sophia_cli.core.settings import Settings

MARKED = """
UPDATE asana.projects SET archived = (gid = 'p3');
UPDATE slack.channels SET is_private = (id = 'C3'), is_archived = (id = 'C2');
"""


@pytest.fixture(scope="module")
def company_url(pg_admin_url: str, warehouse_template: str) -> Iterator[str]:
    url = clone_database(pg_admin_url, warehouse_template)
    load(url)
    with psycopg.connect(url) as conn:
        conn.execute(MARKED)
    yield url
    drop_database(pg_admin_url, url)


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


def test_tasks_in_archived_projects_count_only_those_projects_tasks(
    settings: Settings, company_url: str
) -> None:
    answer = ask(settings, "tasks in archived projects", AS_OF, use_cache=False)
    expected = _count(company_url, "SELECT count(*) FROM asana.tasks t "
                      "WHERE NOT t.deleted AND t.project_gid = 'p3'")  # fmt: skip
    assert expected > 0 and answer.rows[0][0] == expected
    assert interp(answer)["conditions"] == ["archived projects"]
    assert "for archived projects" in answer.answer


def test_open_tasks_in_archived_projects_keep_both_conditions(
    settings: Settings, company_url: str
) -> None:
    answer = ask(settings, "open tasks in archived projects", AS_OF, use_cache=False)
    expected = _count(company_url, "SELECT count(*) FROM asana.tasks t WHERE NOT t.deleted "
                      "AND NOT t.completed AND t.project_gid = 'p3'")  # fmt: skip
    assert answer.rows[0][0] == expected


def test_messages_in_private_channels_count_only_private_channels(
    settings: Settings, company_url: str
) -> None:
    answer = ask(settings, "messages in private channels", AS_OF, use_cache=False)
    expected = _count(company_url, "SELECT count(*) FROM slack.messages m "
                      "WHERE NOT m.deleted AND m.channel_id = 'C3'")  # fmt: skip
    assert expected > 0 and answer.rows[0][0] == expected
    assert "for private channels" in answer.answer


def test_public_and_archived_channels_are_adjectives_too(
    settings: Settings, company_url: str
) -> None:
    public = ask(settings, "messages in public channels", AS_OF, use_cache=False)
    archived = ask(settings, "messages in archived channels", AS_OF, use_cache=False)
    assert public.rows[0][0] == _count(company_url, "SELECT count(*) FROM slack.messages m "
                                       "WHERE NOT m.deleted AND m.channel_id <> 'C3'")  # fmt: skip
    assert archived.rows[0][0] == _count(company_url, "SELECT count(*) FROM slack.messages m "
                                         "WHERE NOT m.deleted AND m.channel_id = 'C2'")  # fmt: skip


def test_an_adjective_the_model_does_not_have_is_refused(settings: Settings) -> None:
    with pytest.raises(NotUnderstoodError):
        ask(settings, "private deals", AS_OF, use_cache=False)
