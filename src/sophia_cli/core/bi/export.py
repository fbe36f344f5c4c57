"""An answer's full result as a file: headers in words, every row (CSV, TSV or JSON records).

`sophia ask --csv` and `POST /v1/ask.csv` both write through here, so a download from the
page is byte for byte what the CLI prints.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from sophia_cli.core.bi.answer import Answer
from sophia_cli.core.bi.catalog import column_label
from sophia_cli.core.bi.semantic import SemanticLayer

MAX_SLUG_LENGTH = 60


def headers(layer: SemanticLayer, answer: Answer) -> list[str]:
    """The result's column names in words ("won revenue (previous period)")."""
    return [column_label(layer, column) for column in answer.columns]


# A text cell starting with one of these is run as a formula by Excel, LibreOffice and Google
# Sheets (CSV injection): `=HYPERLINK(...)` in a company name must stay a name.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (a leading apostrophe, as OWASP
    recommends); numbers, dates and other text are unchanged."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def delimited(layer: SemanticLayer, answer: Answer, delimiter: str = ",") -> str:
    """Every row with a header line, comma- or tab-separated, one row per line; text that a
    spreadsheet would run as a formula is made inert."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(headers(layer, answer))
    writer.writerows([inert(cell) for cell in row] for row in answer.rows)
    return buffer.getvalue()


def records(layer: SemanticLayer, answer: Answer) -> str:
    """Every row as a JSON object keyed by the headers in words, on one line."""
    names = headers(layer, answer)
    rows: list[dict[str, Any]] = [dict(zip(names, row, strict=False)) for row in answer.rows]
    return json.dumps(rows, ensure_ascii=False) + "\n"


def filename(question: str, extension: str = "csv") -> str:
    """A file name from the question: `won-revenue-by-owner-last-quarter.csv`.

    ASCII letters, digits and hyphens only, so it is safe inside a Content-Disposition
    header and on every file system.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")
    slug = slug[:MAX_SLUG_LENGTH].rstrip("-") or "answer"
    return f"{slug}.{extension}"
