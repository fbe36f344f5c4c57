"""Benchmark `sophia migrate ports` against the naive `sed -i 's/8003/8000/g'`.

Generates a tree of 10,000 files (Python, YAML, compose, env, Markdown, shell, JSON,
Dockerfiles) mixing true port uses and traps, with the correct result known for every
file. Measures the wall time of the dry run and of `--apply` (CLI subprocesses, fsync
included) against sed over the very same files, and counts each tool's false edits (a trap
rewritten) and misses (a true port left behind).

Then `migrate ports --scan` on one-line JSON files of growing size (the shape that made the
old matcher quadratic): time per size, printed as a ratio to the smallest, which should grow
like the size ratio.

Run: .venv/bin/python bench/migrate.py [--files N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRUE = [
    "url = 'http://localhost:8003/api'",
    "PORT=8003",
    "port: 8003",
    '"port": 8003',
    "uvicorn app:app --port 8003",
    "EXPOSE 8003",
    "containerPort: 8003",
    "API_PORT=8003",
    'BRIDGE = os.getenv("BRIDGE_URL", "http://bridge:8003")',
    "listen 8003;",
    "server.port=8003",
    "targetPort: 8003",
    "curl -fsS http://127.0.0.1:8003/health",
    "The API listens on port 8003.",
    'PORT="${API_PORT:-8003}"',
]
TRAPS = [
    "METRICS_PORT=18003",
    "image: api:v1.8003",
    "version = 1.8003",
    "ratio = 8003.5",
    'color: "#8003ff"',
    "FLAGS = 0x8003",
    "build 20180031",
    "sha a8003bc and 8003e4b2",
    "call 555-8003",
    "issue #8003",
    "see https://example.com/items/8003",
    "we processed 8003 requests",
    "timeout_ms = 8003",
    "admin on :80030",
    "ticket CHG-8003",
]
KINDS = [
    "app/m{i}.py",
    "deploy/s{i}.yaml",
    "env/s{i}.env",
    "docs/p{i}.md",
    "bin/r{i}.sh",
    "conf/c{i}.json",
    "docker/Dockerfile.s{i}",
]


def generate(root: Path, count: int, rng: random.Random) -> dict[str, bytes]:
    """Write `count` files; return the correct migrated bytes of each."""
    expected = {}
    for i in range(count):
        rel = KINDS[i % len(KINDS)].format(i=i)
        lines = [(line, True) for line in rng.sample(TRUE, 2)]
        lines += [(line, False) for line in rng.sample(TRAPS, 3)]
        rng.shuffle(lines)
        before = "".join(f"{line}\n" for line, _ in lines)
        after = "".join(f"{line.replace('8003', '8000') if ok else line}\n" for line, ok in lines)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(before)
        expected[rel] = after.encode()
    return expected


def score(root: Path, original: Path, expected: dict[str, bytes]) -> tuple[int, int]:
    """False edits and misses, judged at every `8003` of the original files."""
    false_edits = misses = 0
    for rel, want in expected.items():
        before, got = (original / rel).read_bytes(), (root / rel).read_bytes()
        start = before.find(b"8003")
        while start != -1:
            right, mine = want[start : start + 4], got[start : start + 4]
            false_edits += right == b"8003" and mine != b"8003"
            misses += right == b"8000" and mine != b"8000"
            start = before.find(b"8003", start + 1)
    return false_edits, misses


def timed(args: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, done.returncode


def line_length_scaling(base: Path) -> None:
    """`scan_ports` on one-line JSON of 1x, 2x, 4x and 8x the size: time ratios vs size ratios.

    The same few ports recur, so the listening probes cost the same at every size.
    """
    import json

    from sophia_cli.core.migrate.scan import scan_ports

    rng = random.Random(1)
    first = None
    for factor in (1, 2, 4, 8):
        folder = base / f"json{factor}"
        folder.mkdir()
        items = [
            {"id": i, "url": f"http://h{i}:8003/x", "n": rng.choice([3306, 5432, 6379])}
            for i in range(1500 * factor)
        ]
        (folder / "data.json").write_text(json.dumps(items))
        size = (folder / "data.json").stat().st_size
        start = time.perf_counter()
        scan_ports(folder)
        seconds = time.perf_counter() - start
        first = first or seconds
        print(
            f"one-line JSON {size / 1e3:7.0f} KB: {seconds:6.2f} s ({seconds / first:4.1f}x time "
            f"for {factor}x size)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    count = parser.parse_args().files
    rng = random.Random(8003)
    with tempfile.TemporaryDirectory(prefix="sophia-bench-migrate-") as folder:
        base = Path(folder)
        original = base / "original"
        expected = generate(original, count, rng)
        ours, naive = base / "ours", base / "sed"
        shutil.copytree(original, ours)
        shutil.copytree(original, naive)
        cli = [sys.executable, "-m", "sophia_cli", "migrate", "ports"]
        dry, dry_code = timed([*cli, str(ours), "--no-diff"])
        applied, apply_code = timed([*cli, str(ours), "--apply", "--yes", "--no-diff"])
        listing = "\0".join(sorted(expected)).encode()
        start = time.perf_counter()
        subprocess.run(
            ["xargs", "-0", "sed", "-i", "s/8003/8000/g"], input=listing, cwd=naive, check=True
        )
        sed_s = time.perf_counter() - start
        ours_false, ours_missed = score(ours, original, expected)
        sed_false, sed_missed = score(naive, original, expected)
        line_length_scaling(base)
    trues = count * 2
    print(f"tree: {count} files, {trues} true port uses, {count * 3} trap lines")
    print(f"sophia dry run : {dry:7.2f} s  (exit {dry_code})")
    print(f"sophia --apply : {applied:7.2f} s  (exit {apply_code}, compute + backup + fsync)")
    print(f"sed -i         : {sed_s:7.2f} s")
    print(f"ratio apply/sed: {applied / sed_s:7.1f}x   dry/sed: {dry / sed_s:5.1f}x")
    print(f"false edits    : sophia {ours_false}, sed {sed_false}")
    print(f"missed ports   : sophia {ours_missed}, sed {sed_missed}")


if __name__ == "__main__":
    main()
