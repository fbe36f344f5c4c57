"""Score `sophia env scan` (and detect-secrets, gitleaks when present) on a fresh corpus.

    python -m bench.secret_corpus.compare [--seed N] [--forms PATH] [--keep DIR] [--report FILE]

Generates the labelled tree in a temporary folder, runs each tool on it, matches findings
to labels by file and line, and prints precision and recall per family and overall, the
files scanned per second (wall time, measured under whatever load the machine has), and
for sophia every fragment of a planted secret that its text, JSON or SARIF output shows.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.secret_corpus.generate import Corpus, generate
from bench.secret_corpus.leaks import Leak, find_leaks, windows
from bench.secret_corpus.score import Finding, Score, score
from bench.secret_corpus.tokens import FAMILIES

FORMATS = ("text", "json", "sarif")


@dataclass
class SophiaRun:
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def findings(self) -> list[Finding]:
        document = json.loads(self.outputs["json"])
        return [Finding(f["file"], int(f["line"]), f.get("rule", "")) for f in document["findings"]]


def _executable(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def run_sophia(tree: Path) -> SophiaRun:
    """`sophia env scan` in every output format; the JSON run is the timed one."""
    sophia = _executable("sophia")
    if sophia is None:
        raise SystemExit("sophia is not installed in this environment: pip install -e .")
    run = SophiaRun()
    env = os.environ | {"COLUMNS": "1000", "NO_COLOR": "1"}
    for fmt in FORMATS:
        started = time.perf_counter()
        done = subprocess.run(
            [sophia, "env", "scan", str(tree), "--format", fmt],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if fmt == "json":
            run.seconds = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(
                f"sophia env scan --format {fmt} failed ({done.returncode}): {done.stderr.strip()}"
            )
        run.outputs[fmt] = done.stdout + done.stderr
    return run


def run_detect_secrets(tree: Path) -> tuple[list[Finding], float] | str:
    tool = _executable("detect-secrets")
    if tool is None:
        return "not installed (pip install detect-secrets==1.5.0)"
    started = time.perf_counter()
    done = subprocess.run(
        [tool, "scan", "--all-files"], cwd=tree, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return f"failed: {done.stderr.strip()[:200]}"
    results = json.loads(done.stdout)["results"]
    return [
        Finding(path, int(hit["line_number"]), hit["type"])
        for path, hits in results.items()
        for hit in hits
    ], seconds


def run_gitleaks(tree: Path) -> tuple[list[Finding], float] | str:
    tool = shutil.which("gitleaks")
    if tool is None:
        return "no gitleaks binary on PATH (it is not installable from the registries here)"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        started = time.perf_counter()
        done = subprocess.run(
            [
                tool,
                "dir",
                str(tree),
                "--report-format",
                "json",
                "--report-path",
                str(report),
                "--exit-code",
                "0",
                "--no-banner",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0 or not report.exists():
            return f"failed: {done.stderr.strip()[:200]}"
        hits = json.loads(report.read_text())
    return [
        Finding(
            str(Path(h["File"]).resolve().relative_to(tree.resolve())),
            int(h["StartLine"]),
            h["RuleID"],
        )
        for h in hits
    ], seconds


def _records_by_file(fmt: str, output: str) -> dict[str, str]:
    """The output records about each file (a JSON finding, a SARIF result, a text line)."""
    grouped: dict[str, list[str]] = defaultdict(list)
    if fmt == "json":
        for finding in json.loads(output)["findings"]:
            grouped[finding["file"]].append(json.dumps(finding, ensure_ascii=False))
    elif fmt == "sarif":
        for run in json.loads(output)["runs"]:
            for result in run.get("results", []):
                for location in result.get("locations", []):
                    uri = location["physicalLocation"]["artifactLocation"]["uri"]
                    grouped[urllib.parse.unquote(uri)].append(
                        json.dumps(result, ensure_ascii=False)
                    )
    return {path: "\n".join(rows) for path, rows in grouped.items()}


def sophia_leaks(corpus: Corpus, run: SophiaRun) -> list[Leak]:
    leaks: list[Leak] = []
    for fmt, output in run.outputs.items():
        # JSON escapes ("\\n", "\\u2022") are undone so a leak is found however it is quoted.
        whole = (
            output
            if fmt == "text"
            else output + "\n" + json.dumps(json.loads(output), ensure_ascii=False)
        )
        seen = windows(whole)
        records = _records_by_file(fmt, output)
        lines = output.splitlines()
        for label in corpus.labels:
            if fmt == "text":
                named = re.compile(rf"(^|\s){re.escape(label.file)}:\d")
                scoped = "\n".join(row for row in lines if named.search(row))
            else:
                scoped = records.get(label.file, "")
            leaks += find_leaks(label, fmt, scoped, whole, seen)
    return leaks


def report(corpus: Corpus, scores: list[Score], skipped: dict[str, str], leaks: list[Leak]) -> str:
    head = f"{'family':<22}{'secrets':>8}" + "".join(f"{s.tool + ' P':>18}{'R':>7}" for s in scores)
    rows = [
        f"corpus: {corpus.forms_name} forms, {len(corpus.files)} files, "
        f"{len(corpus.labels)} secrets, {len(corpus.decoys)} look-alikes",
        "",
        head,
    ]
    for family in [*FAMILIES, "other"]:
        count = sum(1 for lb in corpus.labels if lb.family == family)
        cells = "".join(
            f"{s.precision(family):>18.2f}{s.recall(family) if count else float('nan'):>7.2f}"
            for s in scores
        )
        rows.append(f"{family:<22}{count:>8}{cells}")
    rows.append(
        f"{'OVERALL':<22}{len(corpus.labels):>8}"
        + "".join(f"{s.precision():>18.2f}{s.recall():>7.2f}" for s in scores)
    )
    rows.append("")
    for s in scores:
        fp = sum(s.fp.values())
        rows.append(
            f"{s.tool}: {sum(s.tp.values())} found, {len(s.missed)} missed, {fp} false "
            f"positives {dict(s.fp_kinds.most_common(6))}, {s.files_per_second:.0f} files/s "
            f"({s.seconds:.2f} s wall, under load)"
        )
    for tool, reason in skipped.items():
        rows.append(f"{tool}: skipped — {reason}")
    labels_leaked = {(lk.file, lk.line) for lk in leaks}
    by_format = {fmt: sum(1 for lk in leaks if lk.output == fmt) for fmt in FORMATS}
    rows += [
        "",
        f"sophia leaks: {len(leaks)} fragment(s) of {len(labels_leaked)} secret(s) beyond "
        f"their public prefix; by format {by_format}",
    ]
    for leak in leaks[:15]:
        rows.append(
            f"  {leak.output:<5} {leak.family:<20} {leak.file}:{leak.line} "
            f"shows {len(leak.fragment)} chars ({leak.fragment[:4]}…)"
        )
    return "\n".join(rows)


def summary(scores: list[Score], leaks: list[Leak]) -> dict[str, object]:
    return {
        s.tool: {
            "precision": round(s.precision(), 3),
            "recall": round(s.recall(), 3),
            "files_per_second": round(s.files_per_second, 1),
            "families": {
                f: {"precision": round(s.precision(f), 3), "recall": round(s.recall(f), 3)}
                for f in FAMILIES
            },
        }
        for s in scores
    } | {
        "sophia_leaks": len(leaks),
        "sophia_leaked_secrets": len({(lk.file, lk.line) for lk in leaks}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--forms", type=Path, help="forms module to use (e.g. the held-out set)")
    parser.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    parser.add_argument("--report", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scan-corpus-") as tmp:
        root = args.keep or Path(tmp)
        corpus = generate(args.seed, root, args.forms)
        run = run_sophia(corpus.tree)
        scores = [score("sophia", run.findings(), corpus, run.seconds)]
        skipped: dict[str, str] = {}
        for name, runner in (("detect-secrets", run_detect_secrets), ("gitleaks", run_gitleaks)):
            outcome = runner(corpus.tree)
            if isinstance(outcome, str):
                skipped[name] = outcome
            else:
                scores.append(score(name, outcome[0], corpus, outcome[1]))
        leaks = sophia_leaks(corpus, run)
        print(report(corpus, scores, skipped, leaks))
        if args.report:
            args.report.write_text(json.dumps(summary(scores, leaks), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
