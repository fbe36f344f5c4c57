"""Results of the `db` operations, shared by the CLI and the HTTP server."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, computed_field

from sophia_cli.core.errors import ExitCode

StoreName = Literal["warehouse", "cache", "vectors"]
# Every command needs these two; the vector store only serves search.
REQUIRED_STORES: frozenset[str] = frozenset({"warehouse", "cache"})


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
    stopped: bool = False  # an embedded server at rest: started on first use, not a fault

    @computed_field  # type: ignore[prop-decorator]
    @property
    def required(self) -> bool:
        return self.store in REQUIRED_STORES

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failing(self) -> bool:
        """Unreachable although it should answer (a stopped embedded server is not)."""
        return not self.reachable and not self.stopped


class DbStatus(BaseModel):
    """Every store sophia uses."""

    stores: list[StoreStatus]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def healthy(self) -> bool:
        """Every required store answers (or is an embedded server that starts on use)."""
        return not any(store.failing for store in self.stores if store.required)

    @property
    def exit_code(self) -> int:
        return ExitCode.OK if self.healthy else ExitCode.FAILURE


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
