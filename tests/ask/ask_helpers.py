"""Database cloning and row comparison shared by the ask tests."""

from __future__ import annotations

from typing import Any

from sophia_cli.store.databases import create_database, drop_database

__all__ = ["clone_database", "drop_database", "interp", "same_rows"]


def clone_database(admin_url: str, template: str) -> str:
    """A copy of the migrated template; returns its conninfo."""
    return create_database(admin_url, prefix="sophia_ask_", template=template)


def same_rows(got: list[list[Any]], want: list[list[Any]]) -> bool:
    """Rows equal cell by cell, floats to 6 decimal places."""

    def norm(rows: list[list[Any]]) -> list[list[Any]]:
        return [[round(c, 6) if isinstance(c, float) else c for c in row] for row in rows]

    return norm(got) == norm(want)


def interp(answer: Any) -> dict[str, Any]:
    """The interpretation as scripts read it: the JSON of `ask --json` and `POST /v1/ask`."""
    found: dict[str, Any] = answer.model_dump(mode="json")["interpretation"]
    return found
