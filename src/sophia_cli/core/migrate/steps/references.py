"""How files refer to one another: Python module names and path strings."""

from __future__ import annotations

import re
from posixpath import basename, dirname

PY_GLOBS = ("**/*.py",)


def module_name(path: str) -> str | None:
    """The dotted module of a Python file path (`src/` layouts dropped), or None."""
    if not path.endswith(".py"):
        return None
    stem = path.removesuffix(".py").removesuffix("/__init__")
    stem = stem.removeprefix("src/")
    parts = stem.split("/")
    if not all(part.isidentifier() for part in parts):
        return None
    return ".".join(parts)


def dotted_pattern(module: str) -> re.Pattern[str]:
    """`a.b.c` as a whole dotted name: in imports, attribute chains and strings."""
    return re.compile(rf"(?<![\w.]){re.escape(module)}(?![\w])")


def from_import_pattern(module: str) -> re.Pattern[str] | None:
    """`from a.b import c` (c alone, optionally aliased) for module `a.b.c`."""
    if "." not in module:
        return None
    package, leaf = module.rsplit(".", 1)
    return re.compile(
        rf"(?m)^(?P<indent>[ \t]*)from[ \t]+{re.escape(package)}[ \t]+import[ \t]+"
        rf"{re.escape(leaf)}(?P<alias>[ \t]+as[ \t]+\w+)?(?=[ \t]*(?:#|\r?$))"
    )


def mentions_in_from_import(module: str) -> re.Pattern[str] | None:
    """`from a.b import x, c, y` in any form, for references (not rewrites)."""
    if "." not in module:
        return None
    package, leaf = module.rsplit(".", 1)
    return re.compile(
        rf"(?m)^[ \t]*from[ \t]+{re.escape(package)}[ \t]+import[ \t]+[^\n]*?\b{re.escape(leaf)}\b"
    )


def relative_import_pattern(path: str) -> re.Pattern[str]:
    """`from . import leaf` or `from .leaf import x`, valid for files in the same folder."""
    leaf = basename(path).removesuffix(".py")
    return re.compile(
        rf"(?m)^[ \t]*from[ \t]+(?:\.[ \t]+import[ \t]+[^\n]*\b{re.escape(leaf)}\b"
        rf"|\.{re.escape(leaf)}\b)"
    )


def path_pattern(path: str) -> re.Pattern[str]:
    """The relative path as a whole string (`config/manager.py`)."""
    return re.compile(rf"(?<![\w./-]){re.escape(path)}(?![\w/])")


def same_folder(a: str, b: str) -> bool:
    return dirname(a) == dirname(b)
