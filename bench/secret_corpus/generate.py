"""Write a labelled secret corpus.

    python -m bench.secret_corpus.generate OUT [--seed N] [--forms PATH]


The tree goes to OUT/tree; OUT/labels.json lists every planted secret, OUT/decoys.json every
look-alike, OUT/neutral.json the lines that are scored neither way. The same seed and
forms always give the same corpus.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.secret_corpus import forms as in_sample
from bench.secret_corpus.builder import Decoy, FileBuilder, Form, FormContext, Label
from bench.secret_corpus.tokens import FAMILIES

PER_FAMILY = 28


@dataclass
class Corpus:
    root: Path
    forms_name: str
    labels: list[Label] = field(default_factory=list)
    decoys: list[Decoy] = field(default_factory=list)
    neutral: list[tuple[str, int, int]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def tree(self) -> Path:
        return self.root / "tree"

    def counts(self) -> Counter[str]:
        return Counter(label.family for label in self.labels)


def load_forms(path: Path | None) -> tuple[str, list[Form]]:
    """The in-sample forms, or the FORMS list of a module loaded from `path`."""
    if path is None:
        return "in-sample", in_sample.FORMS
    spec = importlib.util.spec_from_file_location("secret_corpus_forms_external", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load forms from {path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: list[Form] = getattr(module, "FORMS", [])
    if not found:
        raise SystemExit(f"{path} defines no FORMS list")
    return path.stem, found


def generate(
    seed: int, root: Path, forms_path: Path | None = None, per_family: int = PER_FAMILY
) -> Corpus:
    """Write files until every family has `per_family` secrets and look-alikes outnumber them."""
    name, forms = load_forms(forms_path)
    rng = random.Random(seed)
    planted: Counter[str] = Counter()
    faked: Counter[str] = Counter()
    ctx = FormContext(rng, planted, faked)
    corpus = Corpus(root, name)
    while min(planted[f] for f in FAMILIES) < per_family:
        order = list(forms)
        rng.shuffle(order)
        for form in order:
            _write(corpus, form(ctx))
    # Forms without secrets (templates, lock files, certificates) top up the look-alikes.
    decoy_only = [form for form in forms if getattr(form, "decoys_only", False)]
    while decoy_only and len(corpus.decoys) < len(corpus.labels):
        _write(corpus, rng.choice(decoy_only)(ctx))
    _write_labels(corpus, seed)
    return corpus


def _write(corpus: Corpus, built: FileBuilder) -> None:
    target = corpus.tree / built.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(built.content(), encoding="utf-8")
    corpus.files.append(built.path)
    corpus.labels.extend(built.labels)
    corpus.decoys.extend(built.decoys)
    corpus.neutral.extend((built.path, a, b) for a, b in built.neutral)


def _write_labels(corpus: Corpus, seed: int) -> None:
    meta = {"seed": seed, "forms": corpus.forms_name, "files": len(corpus.files)}
    (corpus.root / "labels.json").write_text(
        json.dumps([label.to_json() for label in corpus.labels], indent=1)
    )
    (corpus.root / "decoys.json").write_text(
        json.dumps([decoy.to_json() for decoy in corpus.decoys], indent=1)
    )
    (corpus.root / "neutral.json").write_text(json.dumps([list(n) for n in corpus.neutral]))
    (corpus.root / "corpus.json").write_text(
        json.dumps(meta | {"families": dict(sorted(corpus.counts().items()))}, indent=1)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="directory to write (tree/ and labels.json)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--forms", type=Path, help="a forms module to use instead of the in-sample forms"
    )
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"{args.out} is not empty: choose a new directory", file=sys.stderr)
        return 2
    corpus = generate(args.seed, args.out, args.forms)
    counts = corpus.counts()
    print(
        f"{len(corpus.files)} files, {len(corpus.labels)} secrets in {len(counts)} families, "
        f"{len(corpus.decoys)} look-alikes -> {corpus.root}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
