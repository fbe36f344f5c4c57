"""Match a tool's findings to the corpus labels by file and line; precision and recall per family.

A finding on a line a label accepts detects that label (several findings on one secret
count once). A finding on a look-alike is a false positive charged to the family the
look-alike imitates; on any other unlabelled line, a false positive of family "other".
Lines marked neutral (an account SID beside its token) count neither way.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bench.secret_corpus.builder import Decoy, Label
from bench.secret_corpus.generate import Corpus


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str = ""


@dataclass
class Score:
    tool: str
    labels: Counter[str] = field(default_factory=Counter)
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fp_kinds: Counter[str] = field(default_factory=Counter)
    missed: list[Label] = field(default_factory=list)
    false: list[tuple[Finding, str]] = field(default_factory=list)
    duplicates: int = 0
    seconds: float = 0.0
    files: int = 0

    def recall(self, family: str | None = None) -> float:
        total = self.labels[family] if family else sum(self.labels.values())
        hit = self.tp[family] if family else sum(self.tp.values())
        return hit / total if total else 1.0

    def precision(self, family: str | None = None) -> float:
        hit = self.tp[family] if family else sum(self.tp.values())
        wrong = self.fp[family] if family else sum(self.fp.values())
        return hit / (hit + wrong) if hit + wrong else 1.0

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def score(tool: str, findings: list[Finding], corpus: Corpus, seconds: float = 0.0) -> Score:
    result = Score(tool, Counter(label.family for label in corpus.labels), seconds=seconds)
    result.files = len(corpus.files)
    labels: dict[str, list[Label]] = defaultdict(list)
    decoys: dict[str, list[Decoy]] = defaultdict(list)
    neutral: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for label in corpus.labels:
        labels[label.file].append(label)
    for decoy in corpus.decoys:
        decoys[decoy.file].append(decoy)
    for path, start, end in corpus.neutral:
        neutral[path].append((start, end))
    found: set[int] = set()
    for finding in sorted(set(findings), key=lambda f: (f.file, f.line)):
        near = [lb for lb in labels[finding.file] if lb.accept[0] <= finding.line <= lb.accept[1]]
        if near:
            fresh = [lb for lb in near if id(lb) not in found]
            if not fresh:
                result.duplicates += 1
                continue
            best = min(fresh, key=lambda lb: abs(lb.line - finding.line))
            found.add(id(best))
            result.tp[best.family] += 1
            continue
        if any(a <= finding.line <= b for a, b in neutral[finding.file]):
            continue
        hit: Decoy | None = next(
            (d for d in decoys[finding.file] if d.line <= finding.line <= d.end_line), None
        )
        kind = hit.kind if hit else "unlabelled line"
        result.fp[hit.family if hit else "other"] += 1
        result.fp_kinds[kind] += 1
        result.false.append((finding, kind))
    result.missed = [lb for lb in corpus.labels if id(lb) not in found]
    return result
