"""Benchmark `sophia env scan`: precision/recall per family beside other tools, and files/s.

Run: .venv/bin/python bench/scan.py [--seed N] [--files N]

1. The blind corpus (bench/secret_corpus/, written by someone who had not read the scanner,
   from gitleaks', detect-secrets' and trufflehog's public test data and documented token
   formats): per-family precision and recall of sophia, detect-secrets and, when a binary is
   on PATH, gitleaks, on the same generated tree; leaks of any secret fragment in sophia's
   output. This reuses `bench.secret_corpus.compare` (its generator and scorer).
2. The tests' own corpus (tests/env/scan_corpus.py): in-sample, written with the scanner.
3. Throughput on a generated tree against a baseline measured in the same run: reading and
   decoding every file without matching, the floor any scanner pays.
"""

from __future__ import annotations

import argparse
import random
import shutil
import string
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "env"))
sys.path.insert(0, str(ROOT))

from bench.secret_corpus import compare  # noqa: E402
from scan_corpus import CORPUS  # noqa: E402

from sophia_cli.core.env.scan.files import candidate_files, read_text  # noqa: E402
from sophia_cli.core.env.scan.scanner import scan_text, scan_tree  # noqa: E402

_WORDS = [
    "def",
    "return",
    "self",
    "value",
    "config",
    "token_count",
    "user",
    "request",
    "import",
    "from",
    "class",
    "settings",
    "for",
    "in",
    "if",
    "else",
    "None",
    "data",
]


def precision_recall() -> None:
    """Per-family and overall precision/recall on the corpus (a case counts once)."""
    stats: dict[str, dict[str, int]] = defaultdict(lambda: {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
    for case in CORPUS:
        found = bool(scan_text(case.text))
        key = ("tp" if found else "fn") if case.positive else ("fp" if found else "tn")
        stats[case.family][key] += 1
    print(f"{'family':28} {'pos':>4} {'neg':>4} {'precision':>10} {'recall':>7}")
    total = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    for family, s in sorted(stats.items()):
        for k in total:
            total[k] += s[k]
        print(
            f"{family:28} {s['tp'] + s['fn']:>4} {s['fp'] + s['tn']:>4} "
            f"{_ratio(s['tp'], s['tp'] + s['fp']):>10} {_ratio(s['tp'], s['tp'] + s['fn']):>7}"
        )
    print(
        f"{'ALL':28} {total['tp'] + total['fn']:>4} {total['fp'] + total['tn']:>4} "
        f"{_ratio(total['tp'], total['tp'] + total['fp']):>10} "
        f"{_ratio(total['tp'], total['tp'] + total['fn']):>7}"
    )


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def generate_tree(root: Path, files: int, seed: int = 7) -> int:
    """Write `files` source-like files (2-12 KB); 1 in 100 gets a planted positive."""
    rng = random.Random(seed)
    positives = [c for c in CORPUS if c.positive]
    planted = 0
    for index in range(files):
        folder = root / f"pkg{index % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for _ in range(rng.randint(60, 300)):
            words = rng.choices(_WORDS, k=rng.randint(3, 9))
            ident = "".join(rng.choices(string.ascii_lowercase, k=8))
            lines.append(f"    {ident} = {' '.join(words)}  # {rng.randint(0, 10**6)}")
        if index % 100 == 0:
            lines.insert(len(lines) // 2, positives[planted % len(positives)].text.rstrip("\n"))
            planted += 1
        (folder / f"module_{index}.py").write_text("\n".join(lines) + "\n")
    return planted


def throughput(root: Path, planted: int) -> None:
    paths = list(candidate_files(root))
    started = time.perf_counter()
    size = sum(len(read_text(p) or "") for p in paths)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    report = scan_tree(root)
    scan_s = time.perf_counter() - started
    print(f"tree: {len(paths)} files, {size / 1e6:.1f} MB; planted secrets: {planted}")
    print(f"baseline (read + decode only): {len(paths) / read_s:,.0f} files/s")
    print(
        f"sophia env scan:               {len(paths) / scan_s:,.0f} files/s "
        f"({size / 1e6 / scan_s:.1f} MB/s), {scan_s / read_s:.1f}x the baseline time"
    )
    print(f"findings on the tree: {len(report.findings)} (planted {planted})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the blind corpus")
    parser.add_argument("--files", type=int, default=5000)
    args = parser.parse_args()
    print("== blind corpus (bench/secret_corpus), same tree for every tool")
    compare.main(["--seed", str(args.seed)])
    print("\n== the tests' own corpus (tests/env/scan_corpus.py, in-sample)")
    precision_recall()
    print("\n== throughput")
    root = Path(tempfile.mkdtemp(prefix="sophia-scan-bench-"))
    try:
        planted = generate_tree(root, args.files)
        throughput(root, planted)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
