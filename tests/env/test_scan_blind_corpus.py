"""`sophia env scan` against a labelled corpus written by someone who never read the scanner.

The corpus (bench/secret_corpus) plants fresh secrets of 22 families in realistic files, next
to look-alikes that must not be reported. These tests hold the scanner to the bar of
issue 18: no fragment of a secret beyond its public prefix in any output format, and
recall and precision of at least 0.95 on the in-sample forms. The last tests check the
harness itself, so that a pass means something.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

# The corpus lives under bench/ at the repository root, which pytest does not import from.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.secret_corpus.compare import SophiaRun, run_sophia, sophia_leaks  # noqa: E402
from bench.secret_corpus.generate import Corpus, generate  # noqa: E402
from bench.secret_corpus.leaks import find_leaks, windows  # noqa: E402
from bench.secret_corpus.score import Finding, score  # noqa: E402
from bench.secret_corpus.tokens import FAMILIES  # noqa: E402

SEED = 1
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    return generate(SEED, tmp_path_factory.mktemp("scan-corpus"))


@pytest.fixture(scope="module")
def scanned(corpus: Corpus) -> SophiaRun:
    return run_sophia(corpus.tree)


def test_no_fragment_of_a_planted_secret_appears_in_text_json_or_sarif(
    corpus: Corpus, scanned: SophiaRun
) -> None:
    leaks = sophia_leaks(corpus, scanned)
    shown = [
        f"{lk.output} {lk.family} {lk.file}:{lk.line} ({len(lk.fragment)} chars)" for lk in leaks
    ]
    assert not leaks, f"{len(leaks)} leaked fragment(s):\n" + "\n".join(shown[:20])


def test_recall_on_in_sample_forms_is_at_least_095(corpus: Corpus, scanned: SophiaRun) -> None:
    result = score("sophia", scanned.findings(), corpus)
    recall = result.recall()
    weak = {f: round(result.recall(f), 2) for f in FAMILIES if result.recall(f) < 0.95}
    assert recall >= 0.95, f"recall {recall:.3f}; families below 0.95: {weak}"


def test_precision_on_in_sample_forms_is_at_least_095(corpus: Corpus, scanned: SophiaRun) -> None:
    result = score("sophia", scanned.findings(), corpus)
    precision, kinds = result.precision(), dict(result.fp_kinds.most_common())
    assert precision >= 0.95, f"precision {precision:.3f}; false positives by kind: {kinds}"


def test_corpus_has_25_secrets_per_family_and_more_lookalikes_than_secrets(corpus: Corpus) -> None:
    counts = corpus.counts()
    assert set(counts) == set(FAMILIES)
    assert min(counts.values()) >= 25
    assert len(corpus.decoys) >= len(corpus.labels)


def test_corpus_is_the_same_for_the_same_seed(corpus: Corpus, tmp_path: Path) -> None:
    again = generate(SEED, tmp_path)
    assert (again.root / "labels.json").read_text() == (corpus.root / "labels.json").read_text()


def test_leak_check_finds_the_tail_of_a_secret_and_ignores_its_public_prefix(
    corpus: Corpus,
) -> None:
    label = next(lb for lb in corpus.labels if lb.public_prefix and len(lb.secret) > 30)
    masked = json.dumps({"file": label.file, "excerpt": label.public_prefix + "•••"})
    tail = json.dumps({"file": label.file, "excerpt": "•••" + label.secret[-8:]})
    assert find_leaks(label, "json", masked, masked, windows(masked)) == []
    assert [lk.fragment for lk in find_leaks(label, "json", tail, tail, windows(tail))] == [
        label.secret[-8:]
    ]


def test_scoring_counts_a_lookalike_as_a_false_positive_and_a_label_once(corpus: Corpus) -> None:
    label, decoy = corpus.labels[0], corpus.decoys[0]
    findings = [
        Finding(label.file, label.line, "rule-a"),
        Finding(label.file, label.line, "rule-b"),
        Finding(decoy.file, decoy.line),
    ]
    result = score("probe", findings, corpus)
    assert sum(result.tp.values()) == 1
    assert result.fp[decoy.family] == 1
    assert result.duplicates == 1
