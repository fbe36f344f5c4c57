"""Results of the `db` operations, shared by the CLI and the HTTP server."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

StoreName = Literal["warehouse", "cache", "vectors"]


class MigrationSummary(BaseModel):
    """Applied and outstanding migrations of the warehouse."""

    applied: list[str]
    pending: list[str]
    changed: list[str]
    unknown: list[str]

    @property
    def current(self) -> bool:
        return not (self.pending or self.changed or self.unknown)


class StoreStatus(BaseModel):
    """Where one store is, whether it answers, and its version."""

    store: StoreName
    backend: str
    embedded: bool
    location: str
    reachable: bool
    version: str | None = None
    detail: str | None = None
    migrations: MigrationSummary | None = None


class DbStatus(BaseModel):
    """Every store sophia uses."""

    stores: list[StoreStatus]


class InitReport(BaseModel):
    """What `db init` / `db upgrade` did."""

    applied: list[str]
    already_applied: int
    collections_created: list[str]
    redis_ok: bool | None = None
    stores: list[StoreStatus]


class StopReport(BaseModel):
    """Which embedded servers `db stop` stopped."""

    stopped: list[StoreName]
    not_running: list[StoreName]
