"""Startup cost: `sophia --help` and `sophia doctor --json` against bare `python -c pass`.

Prints the median wall time of each over several runs, the ratio to the bare interpreter,
and which heavy modules each command imported (litellm, pymilvus, fastapi must be absent
from `sophia --help`).

    .venv/bin/python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HEAVY = ("litellm", "pymilvus", "fastapi", "uvicorn", "pandas", "sqlglot", "openai", "numpy")

_PROBE = """
import sys
from sophia_cli.cli.main import run
try:
    code = run({args!r})
except SystemExit as exc:
    code = exc.code
sys.stderr.write("HEAVY=" + ",".join(m for m in {heavy!r} if m in sys.modules) + "\\n")
"""


def timed(command: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def heavy_imports(args: list[str], env: dict[str, str]) -> str:
    probe = _PROBE.format(args=args, heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    marker = [line for line in result.stderr.splitlines() if line.startswith("HEAVY=")]
    return marker[-1].removeprefix("HEAVY=") if marker else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    env = {**os.environ, "SOPHIA_HOME": tempfile.mkdtemp(prefix="sophia-bench-")}
    sophia = [sys.executable, "-m", "sophia_cli"]
    baseline = timed([sys.executable, "-c", "pass"], env, options.runs)
    cases = {
        "sophia --help": ["--help"],
        "sophia --version": ["--version"],
        "sophia doctor --json": ["doctor", "--json"],
    }
    print(f"{'command':<24} {'median':>9} {'x python':>9}  heavy modules imported")
    print(f"{'python -c pass':<24} {baseline * 1000:>7.0f}ms {1.0:>8.1f}x")
    for label, args in cases.items():
        seconds = timed(sophia + args, env, options.runs)
        imported = heavy_imports(args, env) or "none"
        print(f"{label:<24} {seconds * 1000:>7.0f}ms {seconds / baseline:>8.1f}x  {imported}")
    subprocess.run(sophia + ["db", "stop"], env=env, capture_output=True, check=False)


if __name__ == "__main__":
    main()
