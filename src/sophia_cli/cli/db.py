"""`sophia db`: bootstrap, upgrade, inspect and stop the stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import FormatOption, JsonOption, escape
from sophia_cli.cli.state import listing_json, settings, wants_json

if TYPE_CHECKING:
    from sophia_cli.core.db.models import StoreStatus

# Core modules are imported inside commands: they pull in psycopg and redis, which
# `sophia --help` should not pay for.

app = typer.Typer(
    help="Bootstrap and upgrade the warehouse, the cache and the vector store.",
    no_args_is_help=True,
)


def _store_rows(stores: list[StoreStatus]) -> list[list[str]]:
    rows = []
    for store in stores:
        mark = output.STATUS_MARKS["ok" if store.reachable else "fail"]
        migrations = ""
        if store.migrations is not None:
            m = store.migrations
            migrations = f"{len(m.applied)} applied, {len(m.pending)} pending"
            if m.changed:
                migrations += f", CHANGED: {', '.join(m.changed)}"
        detail = store.detail or ""
        rows.append(
            [
                f"{mark} {store.store}",
                store.backend,
                escape(store.location),
                store.version or "",
                migrations,
                escape(detail),
            ]
        )
    return rows


def _print_stores(stores: list[StoreStatus]) -> None:
    output.stdout().print(
        output.table(
            None,
            ["store", "backend", "location", "version", "migrations", "detail"],
            _store_rows(stores),
        )
    )


@app.command()
def init(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Create the warehouse schema, the vector collections, and check Redis.

    Starts the embedded servers when DATABASE_URL / REDIS_URL / MILVUS_URI are unset.
    Safe to run again: it only applies what is missing.

    Example: sophia db init
    """
    from sophia_cli.core.db import setup

    report = setup.init(settings(ctx))
    if wants_json(ctx, json_output):
        output.emit_json(report)
        return
    if report.applied:
        output.say(f"applied {len(report.applied)} migration(s): {', '.join(report.applied)}")
    else:
        output.say(f"warehouse up to date ({report.already_applied} migrations applied before)")
    for name in report.collections_created:
        output.say(f"created Milvus collection {name}")
    _print_stores(report.stores)


@app.command()
def upgrade(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Apply pending warehouse migrations (safe to run from several deploy jobs at once).

    Example: sophia db upgrade
    """
    from sophia_cli.core.db import setup

    applied, before = setup.upgrade_warehouse(settings(ctx))
    reader = setup.reader_role_ready(settings(ctx))
    if wants_json(ctx, json_output):
        output.emit_json({"applied": applied, "already_applied": before, "reader_role": reader})
        return
    if applied:
        output.say(f"applied {len(applied)} migration(s): {', '.join(applied)}")
    else:
        output.say(f"nothing to do: {before} migrations already applied")
    if not reader:
        output.say(
            "! the read-only role sophia_reader could not be set up (this user may not create"
            " or grant roles): ask and query run as the connecting user, read-only"
        )


@app.command("status")
def status_(ctx: typer.Context, json_output: JsonOption = False, fmt: FormatOption = None) -> None:
    """Show each store: where it is, version, reachable, migrations applied/pending.

    Does not start stopped embedded servers. Exit 1 when the warehouse or the cache
    cannot be reached.

    Example: sophia db status --json
    """
    from sophia_cli.core.db import status

    report = status.db_status(settings(ctx))
    if listing_json(ctx, json_output, fmt):
        output.emit_json(report)
    else:
        _print_stores(report.stores)
    raise typer.Exit(report.exit_code)


@app.command()
def stop(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Stop the embedded PostgreSQL and Valkey servers (managed services are untouched).

    Example: sophia db stop
    """
    from sophia_cli.core.db import setup

    report = setup.stop(settings(ctx))
    if wants_json(ctx, json_output):
        output.emit_json(report)
        return
    for name in report.stopped:
        output.say(f"stopped embedded {name}")
    for name in report.not_running:
        output.say(f"embedded {name} was not running")


@app.command()
def reindex(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Rebuild the search index (BM25 and dense vectors) from the warehouse.

    Run it after changing SEARCH_EMBEDDING: vectors of two embedders are never mixed.

    Example: sophia db reindex
    """
    from sophia_cli.core.search.index import reindex as rebuild

    report = rebuild(settings(ctx))
    if wants_json(ctx, json_output):
        output.emit_json(report)
        return
    for done in report.sources:
        output.say(f"{done.source}: {done.units} unit(s) indexed")
    output.say(f"search index rebuilt with {report.embedder} in {report.duration_s:.1f} s")
