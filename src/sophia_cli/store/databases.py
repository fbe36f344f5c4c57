"""Create and drop whole PostgreSQL databases on a server (scratch and test databases).

Used by the test fixtures and the benchmarks, which each need a database of their own on
whatever server they were given; the admin conninfo must be allowed to CREATE DATABASE.
"""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def with_dbname(url: str, dbname: str) -> str:
    """The same conninfo pointing at another database of the same server."""
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**{key: str(value) for key, value in params.items()})


def dbname_of(url: str) -> str:
    return str(conninfo_to_dict(url)["dbname"])


def create_database(
    admin_url: str, *, prefix: str = "sophia_t_", template: str | None = None
) -> str:
    """Create a uniquely named database (a file copy of `template` when given); its conninfo."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(template)
        )
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)
    return with_dbname(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drop the database `url` points at, closing its other sessions first."""
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(dbname_of(url))
    )
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)
