"""Database cloning and row comparison shared by the ask tests."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg import sql


def clone_database(admin_url: str, template: str) -> str:
    name = f"sophia_ask_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    params = psycopg.conninfo.conninfo_to_dict(admin_url)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in params.items()})


def drop_database(admin_url: str, url: str) -> None:
    name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def same_rows(got: list[list[Any]], want: list[list[Any]]) -> bool:
    """Rows equal cell by cell, floats to 6 decimal places."""

    def norm(rows: list[list[Any]]) -> list[list[Any]]:
        return [[round(c, 6) if isinstance(c, float) else c for c in row] for row in rows]

    return norm(got) == norm(want)
