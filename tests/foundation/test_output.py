"""Listings stay readable anywhere: tables on terminals, plain TSV in pipes, `--format`.

Terminal widths are the default (80) and a narrow 60 columns; a token (id, path, URL,
price) must come out whole at both, even when the table has to grow past the width.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from sophia_cli.cli import output
from sophia_cli.cli.output import Format, Listing

LONG_PATH = "/home/someone/.local/share/sophia/valkey/a-rather-long-socket-name.sock"
ROWS = [
    ["0003_squad", LONG_PATH, "$1.00", "applied on the first run of the upgrade job"],
    ["0004_ask_reader_role", "https://example.com/a/very/long/url?x=1", "$12.50", "pending"],
]
COLUMNS = ["migration", "where", "price", "note"]


def _render(listing: Listing, *, terminal: bool, width: int = 80) -> str:
    buffer = io.StringIO()
    console = output.stdout(file=buffer, force_terminal=terminal, width=width, color_system=None)
    console.print(listing)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def no_chosen_format() -> None:
    output.choose(None)


def test_piped_tables_are_tsv_with_headers_first() -> None:
    text = _render(Listing("title", COLUMNS, ROWS), terminal=False, width=60)
    lines = text.splitlines()
    assert lines[0].split("\t") == COLUMNS
    assert [line.split("\t") for line in lines[1:]] == ROWS


def test_piped_tables_draw_no_boxes_and_fold_nothing() -> None:
    text = _render(Listing(None, COLUMNS, ROWS), terminal=False, width=60)
    assert not set("┏┃│└━─") & set(text)
    assert len(text.splitlines()) == 1 + len(ROWS)


def test_piped_cells_lose_markup_and_line_breaks() -> None:
    text = _render(Listing(None, ["a"], [["[green]✓[/] ok\nsecond\tline"]]), terminal=False)
    assert text.splitlines()[1] == "✓ ok second line"


@pytest.mark.parametrize("width", [80, 60])
def test_terminal_tables_never_cut_a_token(width: int) -> None:
    text = _render(Listing(None, COLUMNS, ROWS), terminal=True, width=width)
    assert "┃" in text
    for token in (
        LONG_PATH,
        "0004_ask_reader_role",
        "$12.50",
        "https://example.com/a/very/long/url?x=1",
    ):
        assert token in text, f"{token} was cut at width {width}"


def test_a_terminal_table_that_fits_stays_within_the_width() -> None:
    text = _render(
        Listing(None, ["id", "note"], [["a1", "short words " * 8]]), terminal=True, width=60
    )
    assert max(len(line) for line in text.splitlines()) <= 60


def test_headers_are_never_cut_either() -> None:
    text = _render(Listing(None, ["migrations"], [["x"]]), terminal=True, width=60)
    assert "migrations" in text


def test_format_csv_quotes_cells_with_commas() -> None:
    output.choose(Format.CSV)
    text = _render(
        Listing(None, ["name", "steps"], [["consolidate", "move, delete"]]), terminal=True
    )
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "steps"],
        ["consolidate", "move, delete"],
    ]


def test_format_json_gives_one_object_per_row() -> None:
    output.choose(Format.JSON)
    text = _render(Listing(None, ["name", "rows"], [["deals", "5"]]), terminal=True)
    assert json.loads(text) == [{"name": "deals", "rows": "5"}]


def test_format_table_draws_a_table_even_when_piped() -> None:
    output.choose(Format.TABLE)
    assert "┃" in _render(Listing(None, COLUMNS, ROWS), terminal=False)


def test_a_listing_command_piped_prints_tsv(sophia) -> None:
    result = sophia("migrate", "presets")
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["preset", "what", "steps"]
    assert all(len(line.split("\t")) == 3 for line in lines[1:])


def test_a_listing_command_accepts_format_csv(sophia) -> None:
    result = sophia("migrate", "presets", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["preset", "what", "steps"]
    assert "ports" in {row[0] for row in rows[1:]}


def test_format_json_on_a_listing_command_is_its_json(sophia) -> None:
    as_format = sophia("migrate", "presets", "--format", "json").json()
    assert as_format == sophia("migrate", "presets", "--json").json()


def test_an_unknown_format_is_a_usage_error(sophia) -> None:
    result = sophia("migrate", "presets", "--format", "yaml")
    assert result.exit_code == 2


def test_a_piped_tables_title_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    text = _render(Listing("mutation 1", ["a"], [["x"]]), terminal=False)
    assert text.splitlines()[0] == "a"
    assert "mutation 1" in capsys.readouterr().err
