"""`query` and `ask` output in pipes: every returned row, and an honest note on a terminal."""

from __future__ import annotations

import subprocess
import sys

from sophia_cli.cli import output

MANY = "SELECT email FROM hubspot.contacts"


def test_piped_query_prints_every_returned_row(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    body = sophia("query", MANY, "--json").json()
    assert "row_count" in body, body
    returned = body["row_count"]
    assert returned > 25  # more than a terminal table shows
    lines = sophia("query", MANY).stdout.splitlines()
    assert lines[0] == "email"
    assert len(lines) - 1 == returned


def test_a_terminal_table_says_how_to_get_the_rows_it_hides(
    sophia, company_env: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    output.choose(output.Format.TABLE)
    try:
        from sophia_cli.cli.ask import _rows_table

        _rows_table(["n"], [[i] for i in range(30)])
    finally:
        output.choose(None)
    result = sophia("query", MANY, "--format", "table")
    assert "more of the" in result.stderr and "--format tsv" in result.stderr
    assert "use --json for all" not in result.stderr


def test_ask_piped_into_head_exits_0(company_env: dict[str, str]) -> None:
    command = f"{sys.executable} -m sophia_cli query '{MANY}' | head -n 1; exit ${{PIPESTATUS[0]}}"
    finished = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=120, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "email\n"
    assert "Traceback" not in finished.stderr and "BrokenPipe" not in finished.stderr


def test_piped_ask_prints_the_rows_alone_on_stdout(sophia, company_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    result = sophia("ask", "won revenue by month this year", "--as-of", "2026-07-15", "--sql")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["month", "won_revenue"]
    assert all(len(line.split("\t")) == 2 for line in lines[1:])
    assert "Won revenue this year" in result.stderr and "date_trunc" in result.stderr
    assert "│█" not in result.stdout + result.stderr  # no chart in a pipe
