"""Opt-in (`ask --allow-llm-sql`): the model writes SQL for a question outside the layer.

The SQL goes through the same guard as `sophia query` and runs read-only; the answer says
plainly that it was written by a model and not checked against the semantic layer.
"""

from __future__ import annotations

from datetime import date

from sophia_cli.core.bi import guard, parse_llm
from sophia_cli.core.bi.answer import Answer
from sophia_cli.core.bi.execute import Reader
from sophia_cli.core.bi.interpretation import ModelSqlInterpretation
from sophia_cli.core.errors import NotUnderstoodError, SophiaError
from sophia_cli.core.settings import Settings

_SCHEMA = """hubspot.owners(id, email, first_name, last_name, archived)
hubspot.companies(id, name, domain, industry, number_of_employees, annual_revenue, owner_id,
  created_at, archived)
hubspot.contacts(id, email, first_name, last_name, company_id, owner_id, lifecycle_stage,
  created_at, archived)
hubspot.deals(id, name, amount, pipeline, stage, close_date, is_closed, is_won, owner_id,
  company_id, created_at, archived)
asana.users(gid, name, email); asana.projects(gid, name, team_name, archived, created_at)
asana.tasks(gid, project_gid, name, assignee_gid, completed, completed_at, due_on, created_at)
slack.users(id, name, real_name, is_bot); slack.channels(id, name, is_private, created_at)
slack.messages(channel_id, ts, user_id, text, thread_ts, reply_count, posted_at)
gong.users(id, email, first_name, last_name)
gong.calls(id, title, started_at, duration_seconds, direction, scope, primary_user_id)"""


def answer_with_sql(settings: Settings, reader: Reader, question: str, as_of: date) -> Answer:
    """Run model-written, guarded SQL; NotUnderstoodError if the model or the guard says no."""
    prompt = (
        f"Today is {as_of}. Write one PostgreSQL SELECT answering the question over these "
        f"tables (schema-qualified names only):\n{_SCHEMA}\nReply with JSON "
        '{"sql": "...", "answer_template": "one sentence"} or {"not_covered": true}.'
    )
    chat = [{"role": "system", "content": prompt}, {"role": "user", "content": question}]
    try:
        reply = parse_llm._json_text(parse_llm.complete_text(settings, chat))
        sql = str(reply["sql"])
        checked = guard.check(sql, reader.known_tables())
    except (SophiaError, ValueError, KeyError, TypeError) as exc:
        raise NotUnderstoodError(
            f"not covered, and no safe SQL could be written for it: {exc}",
            hint="Rephrase with a metric from `sophia ask --help`.",
        ) from exc
    cap = settings.ask_row_limit
    columns, rows, cut = reader.fetch_capped(checked, cap, settings.ask_max_result_bytes)
    return Answer(
        answer=f"{len(rows)} row(s) from SQL written by the model (outside the semantic layer).",
        interpretation=ModelSqlInterpretation(
            truncated=cut is not None, notes=["model-written SQL, checked by the guard only"]
        ),
        sql=checked, columns=columns, rows=rows, source="llm", as_of=as_of,
    )  # fmt: skip
