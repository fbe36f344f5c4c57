"""The parser reads env files exactly as python-dotenv does, and keeps line numbers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dotenv import dotenv_values

from sophia_cli.core.env.parse import file_values, parse_file, parse_text

# python-dotenv's own edge cases (from its test suite's parser cases) plus a few of ours.
DOTENV_CASES = [
    "a=b",
    "a=b\n",
    "export a=b",
    "export  a=b",
    " a = b ",
    "a=b c",
    "a='b c'",
    'a="b c"',
    "a='b\\nc'",
    'a="b\\nc"',
    'a="b\\\\nc"',
    'a="b\\"c"',
    "a='b\\'c'",
    "a=b # comment",
    "a=b#c",
    "a='b#c'",
    "a= # comment",
    "a=#novalue",
    "# comment\na=b",
    "a",
    "a=",
    "a='x\ny'",
    'a="x\ny"',
    "\ufeffa=b",
    "a=1\r\nb=2\r\n",
    "a=1\nb=2\na=3",
    "'a'=b",
    "a=${B:-fallback}",
    "B=1\nA=${B}x",
    "A=${B}",
    "a=b\n\n\nc=d",
    "a: b\nc=d",
    "a=b\n  c=d",
    "a='unterminated\nb=c",
    "=novalue\nk=v",
]


@pytest.mark.parametrize("text", DOTENV_CASES)
def test_values_match_dotenv_values(text: str) -> None:
    expected = dotenv_values(stream=io.StringIO(text))
    assert file_values(parse_text(text), {}) == dict(expected)


def test_interpolation_uses_the_given_environment_like_dotenv(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOPHIA_T_OUTER", "from-env")
    text = "A=${SOPHIA_T_OUTER}\nB=${SOPHIA_T_MISSING:-dflt}\n"
    import os

    assert file_values(parse_text(text), os.environ) == dict(
        dotenv_values(stream=io.StringIO(text))
    )


def test_file_with_crlf_and_bom_matches_dotenv_values(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes("\ufeffA=1\r\nB='two words'\r\n".encode())
    assert file_values(parse_file(path), {}) == dict(dotenv_values(path))


def test_every_key_keeps_its_line_number() -> None:
    parsed = parse_text("# header\n\nA=1\nB='multi\nline'\n\nexport C=3\n")
    assert [(e.key, e.line) for e in parsed.entries] == [("A", 3), ("B", 4), ("C", 7)]


def test_bad_lines_are_reported_not_raised() -> None:
    parsed = parse_text("A=1\nthis is not an assignment\nB=2\n")
    assert parsed.invalid_lines == [2]
    assert [e.key for e in parsed.entries] == ["A", "B"]


def test_duplicates_list_every_line_and_last_wins() -> None:
    parsed = parse_text("A=1\nB=2\nA=3\n")
    assert parsed.duplicates() == {"A": [1, 3]}
    assert parsed.last_values()["A"].raw == "3"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("A='cost $5 ${X}'\n", "dollar-in-single-quotes"),
        ("A=$HOME/bin\n", "bare-variable"),
        ('A="$HOME/bin"\n', "bare-variable"),
        ("A: b\n", "colon-assignment"),
        ("A=b#c\n", "hash-without-space"),
        ("A = b\n", "spaces-around-equals"),
    ],
)
def test_dialect_hazards_are_flagged(text: str, code: str) -> None:
    assert code in [h.code for h in parse_text(text).hazards]


@pytest.mark.parametrize(
    "text", ["A=b # comment\n", "A='x'\n", "A=${B}\n", 'A="#quoted"\n', "export A=b\n"]
)
def test_portable_lines_have_no_hazards(text: str) -> None:
    assert parse_text(text).hazards == []
