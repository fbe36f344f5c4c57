"""An answer written as CSV opens in a spreadsheet as data: no cell runs as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from sophia_cli.core.bi.export import inert


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"],
)
def test_text_a_spreadsheet_would_run_as_a_formula_is_written_inert(text: str) -> None:
    assert inert(text) == "'" + text


@pytest.mark.parametrize("cell", [-1200.5, 0, 42, None, "Acme - West", "2026-03-01"])
def test_numbers_and_ordinary_text_are_written_as_they_are(cell: object) -> None:
    assert inert(cell) == cell


def test_an_inert_cell_survives_the_csv_round_trip() -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([inert("=1+1"), -3])
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=1+1", "-3"]
