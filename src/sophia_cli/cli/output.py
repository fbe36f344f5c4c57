"""Rendering shared by every command: data to stdout, people to stderr.

Tables adapt to where stdout goes: boxes for a terminal, plain tab-separated rows (headers
first, nothing folded) for pipes and files, or the format a listing command's `--format`
asked for. Long tokens (ids, paths, URLs) are never cut: a table too narrow to hold them
grows past the terminal width instead, and the terminal wraps whole lines.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

import typer

# Rich, json and csv are imported where used: `sophia --help` needs none of them.
if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of text.")
]


class Format(enum.StrEnum):
    """How a listing prints: `table` for people, `tsv`/`csv` for tools, `json` for scripts."""

    TABLE = "table"
    TSV = "tsv"
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        help="table, tsv, csv or json. Default: table on a terminal, tsv when piped.",
        case_sensitive=False,
    ),
]

# The format the running command asked for; None lets the destination decide.
_chosen: ContextVar[Format | None] = ContextVar("sophia_output_format", default=None)

STATUS_MARKS = {
    "ok": "[green]✓[/]",
    "warn": "[yellow]![/]",
    "fail": "[red]✗[/]",
    "skip": "[dim]-[/]",
}


def choose(fmt: Format | None) -> None:
    """Remember the `--format` of this invocation for every table it prints."""
    _chosen.set(fmt)


def chosen_json(flag: bool = False) -> bool:
    """Whether this listing should print JSON (`--json` or `--format json`)."""
    return flag or _chosen.get() is Format.JSON


def _stdout_class() -> type[Console]:
    from rich.console import Console

    class Stdout(Console):
        """The data console: never crops, so a table grown past the width keeps its tokens."""

        def print(self, *objects: Any, crop: bool = False, **options: Any) -> None:
            super().print(*objects, crop=crop, **options)

    return Stdout


def stdout(**options: Any) -> Console:
    """Data console: text wraps on a terminal; in a pipe each line stays one line."""
    console = _stdout_class()(soft_wrap=False, **options)
    console.soft_wrap = not console.is_terminal
    return console


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def escape(text: str) -> str:
    """Text shown verbatim inside Rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def to_jsonable(data: Any) -> Any:
    """Pydantic models (and lists of them) to plain JSON-ready data."""
    # Duck-typed so rendering never imports pydantic for commands that print no model.
    if hasattr(data, "model_dump"):
        return data.model_dump(mode="json")
    if isinstance(data, list | tuple):
        return [to_jsonable(item) for item in data]
    if isinstance(data, dict):
        return {key: to_jsonable(value) for key, value in data.items()}
    return data


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout."""
    import json

    sys.stdout.write(json.dumps(to_jsonable(data), ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def plain(cell: object) -> str:
    """A cell as plain text: markup removed, on one line."""
    from rich.text import Text

    text = "" if cell is None else str(cell)
    if "[" in text:
        text = Text.from_markup(text).plain
    return " ".join(text.split("\n")).replace("\t", " ")


class Listing:
    """Rows with headers that render as a table on a terminal and as TSV/CSV elsewhere."""

    def __init__(
        self, title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        self.title = title
        self.columns = list(columns)
        self.rows = [["" if cell is None else str(cell) for cell in row] for row in rows]

    def format_for(self, console: Console) -> Format:
        chosen = _chosen.get()
        if chosen is not None:
            return chosen
        return Format.TABLE if console.is_terminal else Format.TSV

    def delimited(self, fmt: Format) -> str:
        """The rows as TSV, CSV or JSON text, headers first."""
        import csv
        import io
        import json

        table = [self.columns, *([plain(cell) for cell in row] for row in self.rows)]
        if fmt is Format.JSON:
            records = [dict(zip(self.columns, row, strict=False)) for row in table[1:]]
            return json.dumps(records, ensure_ascii=False) + "\n"
        if fmt is Format.CSV:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(table)
            return buffer.getvalue()
        return "".join("\t".join(row) + "\n" for row in table)

    def rich_table(self) -> Any:
        from rich.table import Table

        result = Table(title=self.title, title_justify="left", header_style="bold")
        for index, column in enumerate(self.columns):
            cells = [column, *(row[index] for row in self.rows)]
            longest = max(_longest_token(cell) for cell in cells)
            result.add_column(column, min_width=min(longest, 120), overflow="fold")
        for row in self.rows:
            result.add_row(*row)
        return result

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.measure import Measurement
        from rich.segment import Segment

        fmt = self.format_for(console)
        if fmt is not Format.TABLE:
            if self.title:  # for people: the data on stdout starts with its headers
                stderr().print(self.title, highlight=False)
            yield Segment(self.delimited(fmt))
            return
        table = self.rich_table()
        needed = Measurement.get(console, options, table).minimum
        # Wider than the terminal rather than a token cut in two (`$1.|00`, a split path).
        yield from console.render(table, options.update(width=max(options.max_width, needed)))


def _longest_token(cell: str) -> int:
    return max((len(word) for word in plain(cell).split()), default=0)


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Listing:
    """Rows for stdout: a table on a terminal, TSV when piped, or what `--format` asked."""
    return Listing(title, columns, rows)


def say(message: str) -> None:
    """A line for people, on stderr."""
    stderr().print(message)
