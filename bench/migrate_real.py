"""List every occurrence of a port in a real repository with what `migrate ports` does to it.

Run on a copy of a public repository (never this one), then judge each line by hand:
.venv/bin/python bench/migrate_real.py /tmp/datasette --from 8001 --to 8000 [--include GLOB]

Every standalone occurrence of the number in a text file of the tree (git's tracked files)
is printed once with its verdict: `edit` (the plan changes it), `review` (listed, not
edited), `left` (judged not a port), `not-scanned` (outside the globs or history). The
totals at the end are what the report's true/false/missed figures are counted from.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from sophia_cli.core.migrate.files import Skipped, candidate_files, read_source
from sophia_cli.core.migrate.ports import LineIndex, find_port_uses
from sophia_cli.core.migrate.run import compute_plan, ports_plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--from", dest="from_port", type=int, required=True)
    parser.add_argument("--to", dest="to_port", type=int, required=True)
    parser.add_argument("--include", action="append", default=[])
    args = parser.parse_args()
    root = args.root.resolve()
    preview = compute_plan(
        ports_plan(args.from_port, args.to_port), root, include=tuple(args.include)
    )
    changed = {c.path for c in preview.changes}
    skipped = {n.path for n in preview.not_scanned}
    token = re.compile(rf"(?<![0-9A-Za-z_]){args.from_port}(?![0-9A-Za-z_])")
    totals: Counter[str] = Counter()
    for rel in candidate_files(root):
        source = read_source(root, rel)
        if source is None or isinstance(source, Skipped):
            continue
        spots = {s.start: s.verdict for s in find_port_uses(source.text, args.from_port)}
        lines = LineIndex(source.text)
        for match in token.finditer(source.text):
            verdict = spots.get(match.start(), "left")
            if rel in skipped:
                verdict = "not-scanned"
            elif verdict == "port":
                verdict = "edit" if rel in changed else "left"
            start, end = lines.bounds(match.start())
            text = source.text[max(start, match.start() - 70) : min(end, match.end() + 50)]
            print(f"{verdict:11} {rel}:{lines.number(match.start())}  {text.strip()}")
            totals[verdict] += 1
    print("totals:", dict(totals))
    for warning in preview.warnings:
        print(f"warning: {warning.path}:{warning.line}: {warning.message}")


if __name__ == "__main__":
    main()
