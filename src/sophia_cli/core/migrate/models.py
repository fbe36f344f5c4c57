"""Results of migrations: what a plan would do, what was applied, rolled back, scanned."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from sophia_cli.core.migrate.files import Skipped

ChangeAction = Literal["edit", "move", "delete"]


class Spot(BaseModel):
    """A place the plan did not edit because it could not be sure (needs review)."""

    path: str
    line: int
    column: int
    text: str
    reason: str
    step: int


class Refusal(BaseModel):
    """A step that was not carried out, and what blocks it."""

    step: int
    kind: str
    path: str
    reason: str
    referenced_by: list[str] = Field(default_factory=list)


class Rewrite(BaseModel):
    """One rename a step made, listed so a reviewer can check each (never a secret value)."""

    step: int
    path: str
    line: int
    old: str
    new: str
    note: str | None = None


class PlanWarning(BaseModel):
    """Something the plan does that works as asked but may not be what was meant."""

    step: int
    path: str
    line: int
    message: str


class NotScanned(BaseModel):
    """A file the step would have matched but did not edit: outside the globs, or history."""

    step: int
    path: str
    reason: str
    matches: int


class ImportTarget(BaseModel):
    """A module the plan's verification imports before and after --apply."""

    path_before: str
    module_before: str
    path_after: str
    module_after: str


class ModuleCheck(BaseModel):
    """Whether a module imported in a child interpreter before and after the migration."""

    module: str
    path: str
    before: bool | None
    after: bool
    error: str | None = None

    @property
    def broken(self) -> bool:
        return not self.after and self.before is not False


class FileChange(BaseModel):
    """One file's change: new content, a new place, or removal."""

    path: str
    new_path: str | None = None
    action: ChangeAction
    edits: int = 0
    before_sha256: str
    after_sha256: str | None = None
    encoding: str
    mode: int
    diff: str = ""
    content: bytes | None = Field(default=None, exclude=True, repr=False)


class StepReport(BaseModel):
    """How one step of the plan went."""

    index: int
    kind: str
    summary: str
    files: int = 0
    edits: int = 0
    notes: list[str] = Field(default_factory=list)


class MigrationPreview(BaseModel):
    """Everything a plan would change in a tree, computed without writing anything."""

    plan: str
    root: str
    files_scanned: int
    steps: list[StepReport]
    changes: list[FileChange]
    review: list[Spot]
    refusals: list[Refusal]
    skipped: list[Skipped]
    git: bool
    rewrites: list[Rewrite] = Field(default_factory=list)
    warnings: list[PlanWarning] = Field(default_factory=list)
    not_scanned: list[NotScanned] = Field(default_factory=list)
    follow_ups: list[str] = Field(default_factory=list)
    verify: list[ImportTarget] = Field(default_factory=list)

    @property
    def pending(self) -> bool:
        return bool(self.changes)

    @property
    def edits(self) -> int:
        return sum(change.edits for change in self.changes)


class JournalEntry(BaseModel):
    """One change as journaled: enough to verify and undo it."""

    action: ChangeAction
    path: str
    new_path: str | None = None
    before_sha256: str
    after_sha256: str | None = None
    mode: int
    backup: str
    tracked: bool = False
    created_dirs: list[str] = Field(default_factory=list)


MigrationStatus = Literal["applying", "applied", "rolled_back"]


class Journal(BaseModel):
    """The record of one applied migration under `.sophia/migrations/<id>/`."""

    id: str
    plan: str
    created_at: datetime
    status: MigrationStatus
    entries: list[JournalEntry]
    rolled_back_at: datetime | None = None


class AppliedMigration(BaseModel):
    """The outcome of `--apply`."""

    id: str
    plan: str
    root: str
    journal: str
    files_changed: int
    edits: int
    refusals: list[Refusal]
    review: int
    verification: list[ModuleCheck] = Field(default_factory=list)
    follow_ups: list[str] = Field(default_factory=list)

    @property
    def broken(self) -> list[ModuleCheck]:
        return [check for check in self.verification if check.broken]


class RollbackResult(BaseModel):
    """The outcome of a rollback."""

    id: str
    root: str
    restored: list[str]
    already_original: list[str]
    refused: list[str]


class MigrationRecord(BaseModel):
    """One line of `sophia migrate history`."""

    id: str
    plan: str
    created_at: datetime
    status: Literal["applied", "interrupted", "rolled_back"]
    files: int
    rolled_back_at: datetime | None = None


class PortUse(BaseModel):
    """A port referenced at file:line."""

    port: int
    path: str
    line: int
    text: str
    owner: str | None = None


class PortSummary(BaseModel):
    """One port across the tree."""

    port: int
    uses: int
    files: list[str]
    listening: bool
    claimed_by: list[str] = Field(default_factory=list)
    conflict: bool = False


class PortScan(BaseModel):
    """Every port a tree references, conflicts, and which are listening now."""

    root: str
    files_scanned: int
    ports: list[PortSummary]
    uses: list[PortUse]


class LegacyReport(BaseModel):
    """Legacy port uses and OpenRouter references left in a tree."""

    root: str
    files_scanned: int = 0
    port_uses: int = 0
    openrouter: int = 0
    files: list[str] = Field(default_factory=list)
    truncated: bool = False
