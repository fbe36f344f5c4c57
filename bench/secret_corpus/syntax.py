"""Writing a value the way each file format needs it quoted (so every file stays valid)."""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"^[A-Za-z0-9_./:+@-]+$")


def dq(value: str) -> str:
    """A double-quoted string valid in Python, JS/TS, JSON, YAML and HCL."""
    return json.dumps(value)


def sq(value: str) -> str:
    """Single quotes for shells and .env files (values never hold a quote)."""
    return "'" + value + "'"


def env_value(value: str, style: str = "auto") -> str:
    if style == "double":
        return dq(value)
    if style == "single" or not _PLAIN.match(value):
        return sq(value)
    return value


def yaml_value(value: str, plain: bool) -> str:
    if plain and _PLAIN.match(value) and value[0] not in "@-:" and not value.isdigit():
        return value
    return dq(value)


def hcl_string(value: str) -> str:
    """HCL interpolates ${...} and %{...}: doubled to stay literal."""
    return dq(value.replace("${", "$${").replace("%{", "%%{"))


def indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + row if row else row for row in text.strip("\n").split("\n"))


def escaped_pem(pem: str) -> str:
    """A PEM on one line with literal backslash-n, as JSON files and .env files carry it."""
    return pem.strip("\n").replace("\n", "\\n") + "\\n"


def split_token(value: str, parts: int = 2) -> list[str]:
    step = max(1, len(value) // parts)
    pieces = [value[i * step : (i + 1) * step] for i in range(parts - 1)]
    return [*pieces, value[(parts - 1) * step :]]
