"""Startup cost: `sophia --help` and friends against `python -c "import typer"`.

The baseline is what any Typer CLI pays before doing anything; the target is
`sophia --help` within 2x of it. Prints the median wall time of each over several runs
(interleaved, so load on a shared machine hits every case alike), the ratio to the baseline
measured in the same run, and which heavy modules each command imported (litellm, pymilvus,
fastapi must be absent from `sophia --help`).

    .venv/bin/python bench/startup.py [--runs N] [--before-src ../other-checkout/src]

Commands run with bytecode caching on (PYTHONDONTWRITEBYTECODE dropped) after one warm-up
round, as an installed package runs: otherwise every run recompiles sophia's modules, which
no user pays. `--before-src` runs the sophia commands a second time from another checkout's
`src` (PYTHONPATH) in the same rounds, for a before/after of one run.
"""

from __future__ import annotations

import argparse
import os
import resource
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

# Another checkout's code under this interpreter: its src first on the path, then its CLI.
# A home of its own: an older doctor may start embedded servers the newer one would find.
_BEFORE = """
import os, sys
os.environ["SOPHIA_HOME"] += "-before"
sys.path.insert(0, {src!r})
sys.argv[0] = "sophia"
from sophia_cli.cli.main import main
main()
"""


def timed_together(
    commands: dict[str, list[str]], env: dict[str, str], runs: int
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per command, the commands run in turn within each round.

    CPU time (user + system of the child) barely moves when other processes load the
    machine, so it is the figure to compare on a shared CI runner; wall time is what a
    user waits.
    """
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=False)
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            samples[label].append((wall, cpu))
    return {
        label: (
            statistics.median(wall for wall, _ in values),
            statistics.median(cpu for _, cpu in values),
        )
        for label, values in samples.items()
    }


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
    parser.add_argument("--before-src", help="another checkout's src folder, run alongside")
    options = parser.parse_args()
    env = {**os.environ, "SOPHIA_HOME": tempfile.mkdtemp(prefix="sophia-bench-")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    sophia = [sys.executable, "-m", "sophia_cli"]
    baselines = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import typer'": [sys.executable, "-c", "import typer"],
    }
    cases = {
        "sophia --help": ["--help"],
        "sophia --version": ["--version"],
        "sophia db --help": ["db", "--help"],
        "sophia doctor --json": ["doctor", "--json"],
    }
    commands = {**baselines, **{label: sophia + args for label, args in cases.items()}}
    if options.before_src:
        before = [*sophia[:-2], "-c", _BEFORE.format(src=options.before_src)]
        for label, args in list(cases.items()):
            commands[f"before: {label}"] = before + args
    timed_together(commands, env, 1)  # warm-up: bytecode written, files in the page cache
    medians = timed_together(commands, env, options.runs)
    typer_wall, typer_cpu = medians["python -c 'import typer'"]
    print(f"{'command':<26} {'wall':>7} {'x typer':>8} {'cpu':>7} {'x typer':>8}  heavy imports")
    for label in commands:
        wall, cpu = medians[label]
        imported = heavy_imports(cases[label], env) or "none" if label in cases else ""
        print(
            f"{label:<26} {wall * 1000:>5.0f}ms {wall / typer_wall:>7.2f}x "
            f"{cpu * 1000:>5.0f}ms {cpu / typer_cpu:>7.2f}x  {imported}"
        )
    help_wall, help_cpu = medians["sophia --help"]
    db_wall, db_cpu = medians["sophia db --help"]
    print(f"sophia db --help / sophia --help: wall {db_wall / help_wall:.2f}x, "
          f"cpu {db_cpu / help_cpu:.2f}x")  # fmt: skip
    subprocess.run(sophia + ["db", "stop"], env=env, capture_output=True, check=False)
    if options.before_src:  # an older doctor may have started servers in its own home
        subprocess.run([*before, "db", "stop"], env=env, capture_output=True, check=False)


if __name__ == "__main__":
    main()
