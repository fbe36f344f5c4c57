"""A finding never shows any part of a secret beyond a known public prefix."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

from env_helpers import Sophia

from sophia_cli.core.env.scan.scanner import redact_line, scan_tree

# Built at run time so this file holds no literal secret.
_SYMBOLS = "a8Kd93jfLQ0pZm2x" + "$(#k!9vB+z%Tq"


def _pieces(secret: str, size: int = 4) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def test_a_value_with_symbols_is_masked_to_its_closing_quote() -> None:
    line = f'SECRET_KEY = "{_SYMBOLS}"  # django'
    excerpt = redact_line(line, [(14, 30, _SYMBOLS[:16], True)])
    assert excerpt == 'SECRET_KEY = "•••"  # django'


def test_an_unquoted_value_is_masked_to_the_next_space() -> None:
    line = f"password: {_SYMBOLS} # yaml"
    assert redact_line(line, [(10, 26, _SYMBOLS[:16], True)]) == "password: ••• # yaml"


def test_a_known_prefix_is_the_only_part_of_a_token_shown() -> None:
    token = "xoxb-" + "1234567890-" + "Zq8Lw2mP7vR4tYk9Xc3Bn6Hd"
    assert redact_line(f"T = '{token}'", [(5, 5 + len(token), token, False)]) == "T = 'xoxb-•••'"


def test_every_output_format_hides_the_whole_symbol_secret(tmp_path: Path, sophia: Sophia) -> None:
    (tmp_path / "settings.py").write_text(f'SECRET_KEY = "{_SYMBOLS}"\n')
    assert scan_tree(tmp_path).findings, "the key must be found"
    for fmt in ("text", "json", "sarif"):
        result = sophia("env", "scan", str(tmp_path), "--format", fmt)
        shown = result.stdout + result.stderr
        leaked = [piece for piece in _pieces(_SYMBOLS) if piece in shown]
        assert leaked == [], f"{fmt} shows {leaked}"
        if fmt == "json":
            assert json.loads(result.stdout)["findings"][0]["excerpt"].count("•••") == 1


def _service_account_json() -> tuple[str, str]:
    body = base64.b64encode(random.Random(3).randbytes(600)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN PRIVATE KEY-----\n{lines}\n-----END PRIVATE KEY-----\n"
    return json.dumps({"type": "service_account", "private_key": pem}, indent=2), body


def test_no_line_of_an_escaped_json_key_is_shown(tmp_path: Path, sophia: Sophia) -> None:
    text, body = _service_account_json()
    (tmp_path / "sa.json").write_text(text)
    for fmt in ("text", "json", "sarif"):
        result = sophia("env", "scan", str(tmp_path), "--format", fmt)
        assert result.exit_code == 1
        shown = result.stdout + result.stderr
        assert [p for p in _pieces(body, 8) if p in shown] == [], fmt
