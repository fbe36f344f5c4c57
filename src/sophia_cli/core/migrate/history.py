"""The list of migrations applied to a tree, from their journals."""

from __future__ import annotations

from pathlib import Path

from sophia_cli.core.migrate import journal as jr
from sophia_cli.core.migrate.models import MigrationRecord


def history(root: Path) -> list[MigrationRecord]:
    """Every migration of the tree, newest first; `interrupted` means apply never finished."""
    records = []
    for record in reversed(jr.journals(root.resolve())):
        status = "interrupted" if record.status == "applying" else record.status
        records.append(
            MigrationRecord(
                id=record.id,
                plan=record.plan,
                created_at=record.created_at,
                status=status,
                files=len(record.entries),
                rolled_back_at=record.rolled_back_at,
            )
        )
    return records
