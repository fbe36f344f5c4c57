"""The tree as a plan sees it while its steps run: files loaded lazily, edited in memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sophia_cli.core.migrate.files import Skipped, SourceFile, glob_matcher, read_source
from sophia_cli.core.migrate.models import Refusal, Spot, StepReport
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
    files: dict[str, WorkFile] = field(default_factory=dict)
    skipped: dict[str, Skipped] = field(default_factory=dict)
    review: list[Spot] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)

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
        """Files not deleted whose current path matches one of the globs."""
        matches = _matcher(globs)
        result: list[WorkFile] = []
        moved_away = {f.original for f in self.files.values() if f.path != f.original}
        for rel in self.candidates:
            if rel in moved_away:
                continue
            held = self.files.get(rel)
            if not matches(held.path if held is not None else rel):
                continue
            loaded = self._load(rel)
            if loaded is not None and not loaded.deleted and matches(loaded.path):
                result.append(loaded)
        result.extend(
            f
            for f in self.files.values()
            if f.path != f.original and not f.deleted and matches(f.path)
        )
        return result

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

    def add_spot(self, wf: WorkFile, start: int, end: int, reason: str, step: int) -> None:
        """Record a place that needs a human (line and column are 1-based)."""
        line_start, line_end = line_bounds(wf.text, start, end)
        line = wf.text.count("\n", 0, start) + 1
        self.review.append(
            Spot(
                path=wf.path,
                line=line,
                column=start - line_start + 1,
                text=wf.text[line_start:line_end].strip()[:200],
                reason=reason,
                step=step,
            )
        )


def report(index: int, kind: str, summary: str) -> StepReport:
    return StepReport(index=index, kind=kind, summary=summary)
