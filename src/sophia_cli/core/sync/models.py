"""Results of `sophia sync` and `sophia sync status`, shared by the CLI and the server."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field, computed_field


class RunStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    RUNNING = "running"
    ALREADY_RUNNING = "already_running"
    ABANDONED = "abandoned"
    PARTIAL = "partial"


class TableCounts(BaseModel):
    """Rows of one table that this run really changed."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0


class StreamResult(BaseModel):
    """What one stream of one source did in this run.

    inserted/updated/deleted count rows of the stream's own table only; rows of the other
    tables the stream fills (a call's participants) are counted apart in `tables`.
    """

    source: str
    stream: str
    status: RunStatus
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    tables: dict[str, TableCounts] = Field(default_factory=dict)
    pages: int = 0
    retries: int = 0
    indexed: int = 0
    duration_s: float = 0.0
    error: str | None = None
    notes: list[str] = Field(default_factory=list)
    progress: float | None = None
    eta_s: float | None = None


class SourceResult(BaseModel):
    """One source: its streams, or why it did not run."""

    source: str
    status: RunStatus
    streams: list[StreamResult] = Field(default_factory=list)
    error: str | None = None
    hint: str | None = None
    duration_s: float = 0.0


class SyncReport(BaseModel):
    """The summary of one `sophia sync` invocation."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    dry_run: bool = False
    full: bool = False
    sources: list[SourceResult]

    # Computed fields: the CLI's --json and the HTTP report serialise the same fields.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """True when no source failed (skipped and already-running sources are fine)."""
        return all(source.status is not RunStatus.FAILED for source in self.sources)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def totals(self) -> dict[str, int]:
        """Rows inserted, updated and deleted over every stream."""
        streams = [s for source in self.sources for s in source.streams]
        return {
            "inserted": sum(s.inserted for s in streams),
            "updated": sum(s.updated for s in streams),
            "deleted": sum(s.deleted for s in streams),
        }


class StreamStatus(BaseModel):
    """Freshness of one stream, for `sophia sync status` and the doctor."""

    source: str
    stream: str
    table: str
    rows: int | None
    last_success: datetime | None
    lag_s: float | None
    last_status: RunStatus | None
    last_error: str | None
    cursor: dict[str, object] | None = None


class SyncStatus(BaseModel):
    """Every declared stream's freshness."""

    streams: list[StreamStatus]
