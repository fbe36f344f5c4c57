"""The tree as a plan sees it while its steps run: files loaded lazily, edited in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sophia_cli.core.env.scan.scanner import redact_secrets
from sophia_cli.core.migrate.files import Skipped, SourceFile, glob_matcher, read_source
from sophia_cli.core.migrate.models import (
    NotScanned,
    PlanWarning,
    Refusal,
    Rewrite,
    Spot,
    StepReport,
)
from sophia_cli.core.migrate.ports import line_bounds


@dataclass
class WorkFile:
    """A file of the tree with its planned content and place."""

    source: SourceFile
    path: str
    text: str
    deleted: bool = False
    edits: int = 0

    @property
    def original(self) -> str:
        return self.source.rel


@lru_cache(maxsize=64)
def _matcher(globs: tuple[str, ...]) -> Callable[[str], bool]:
    """Compiled once per distinct glob set (steps share the plan's)."""
    return glob_matcher(globs)


@dataclass
class Workspace:
    """Candidate paths, the files read so far, and what the steps reported."""

    root: Path
    candidates: list[str]
    force: bool = False
    git: bool = False
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    files: dict[str, WorkFile] = field(default_factory=dict)
    skipped: dict[str, Skipped] = field(default_factory=dict)
    review: list[Spot] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    warnings: list[PlanWarning] = field(default_factory=list)
    not_scanned: list[NotScanned] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    to_verify: dict[int, WorkFile] = field(default_factory=dict)

    def selects(self, globs: tuple[str, ...], rel: str) -> bool:
        """Whether a step with these globs edits `rel`: matched or --include'd, not history.

        A history file is edited only when an --include names it without a wildcard.
        """
        if rel in self.include:
            return True
        if self.is_history(rel):
            return False
        return _matcher(globs)(rel) or _matcher(self.include)(rel)

    def is_history(self, rel: str) -> bool:
        return not rel.endswith(".py") and _matcher(self.exclude)(rel)

    def why_not(self, globs: tuple[str, ...], rel: str) -> str:
        """Why a step with these globs leaves `rel` alone."""
        return "outside the globs" if not _matcher(globs)(rel) else "history file"

    def _load(self, rel: str) -> WorkFile | None:
        if rel in self.files:
            return self.files[rel]
        if rel in self.skipped:
            return None
        read = read_source(self.root, rel)
        if isinstance(read, Skipped):
            self.skipped[rel] = read
            return None
        if read is None:
            return None
        self.files[rel] = WorkFile(source=read, path=rel, text=read.text)
        return self.files[rel]

    def live(self, globs: tuple[str, ...]) -> list[WorkFile]:
        """Files not deleted whose current path the step selects (see `selects`)."""
        return self._files(lambda rel: self.selects(globs, rel))

    def outside(self, globs: tuple[str, ...]) -> list[WorkFile]:
        """Readable text files the step does not select: listed when they hold a match."""
        return self._files(lambda rel: not self.selects(globs, rel))

    def all_files(self) -> list[WorkFile]:
        """Every readable text file, whatever the globs (for refusing a delete)."""
        return self._files(lambda rel: True)

    def _files(self, wanted: Callable[[str], bool]) -> list[WorkFile]:
        result: list[WorkFile] = []
        moved_away = {f.original for f in self.files.values() if f.path != f.original}
        for rel in self.candidates:
            if rel in moved_away:
                continue
            held = self.files.get(rel)
            if not wanted(held.path if held is not None else rel):
                continue
            loaded = self._load(rel)
            if loaded is not None and not loaded.deleted and wanted(loaded.path):
                result.append(loaded)
        result.extend(
            f
            for f in self.files.values()
            if f.path != f.original and not f.deleted and wanted(f.path)
        )
        return result

    def note_outside(self, step: int, globs: tuple[str, ...], count: Callable[[str], int]) -> None:
        """List files the step skipped although they hold `count(text)` matches."""
        for wf in self.outside(globs):
            hits = count(wf.text)
            if hits:
                reason = self.why_not(globs, wf.path)
                self.not_scanned.append(
                    NotScanned(step=step, path=wf.path, reason=reason, matches=hits)
                )

    def line_of(self, wf: WorkFile, offset: int) -> int:
        return wf.text.count("\n", 0, offset) + 1

    def find(self, path: str) -> WorkFile | None:
        """The live file now at `path`."""
        for wf in self.files.values():
            if wf.path == path and not wf.deleted:
                return wf
        if path in self.candidates and path not in {f.original for f in self.files.values()}:
            loaded = self._load(path)
            return loaded if loaded is not None and loaded.path == path else None
        return None

    def occupied(self, path: str) -> bool:
        """Whether a live file, or anything on disk that stays, sits at `path`."""
        if self.find(path) is not None:
            return True
        held = self.files.get(path)
        if held is not None and (held.deleted or held.path != path):
            return False
        return (self.root / path).exists() or (self.root / path).is_symlink()

    def add_spot(
        self, wf: WorkFile, start: int, end: int, reason: str, step: int, *, text: str | None = None
    ) -> None:
        """Record a place that needs a human (line and column are 1-based).

        The line is shown with every secret the scanner recognises masked; `text` replaces
        it where the caller knows better (a secret's assignment).
        """
        line_start, line_end = line_bounds(wf.text, start, end)
        line = wf.text.count("\n", 0, start) + 1
        self.review.append(
            Spot(
                path=wf.path,
                line=line,
                column=start - line_start + 1,
                text=text or redact_secrets(wf.text[line_start:line_end].strip())[:200],
                reason=reason,
                step=step,
            )
        )


def report(index: int, kind: str, summary: str) -> StepReport:
    return StepReport(index=index, kind=kind, summary=summary)
