"""How files refer to one another: Python module names and path strings."""

from __future__ import annotations

import ast
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


def python_references(text: str, module: str, package: str | None) -> list[int] | None:
    """Lines where Python code imports `module` or names it in a string; None if unparsable.

    Every import syntax counts (absolute, relative, `from pkg import (a,\\n module)`, aliased),
    and so do strings that are module paths (`mock.patch("pkg.module.x")`, `"pkg.module:app"`).
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    parent, _, leaf = module.rpartition(".")
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(_names_module(alias.name, module) for alias in node.names):
                lines.add(node.lineno)
        elif isinstance(node, ast.ImportFrom):
            target = resolve(package, node.level, node.module)
            if target is None:
                continue
            if _names_module(target, module) or (
                target == parent and any(alias.name == leaf for alias in node.names)
            ):
                lines.add(node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _names_module(node.value, module) or node.value.startswith(module + ":"):
                lines.add(node.lineno)
    return sorted(lines)


def _names_module(dotted: str, module: str) -> bool:
    return dotted == module or dotted.startswith(module + ".")


def package_of(path: str) -> str | None:
    """The package a Python file's relative imports start from (None: not importable)."""
    module = module_name(path)
    if module is None:
        return None
    return module if path.endswith("__init__.py") else module.rpartition(".")[0]


def resolve(package: str | None, level: int, written: str | None) -> str | None:
    """The absolute module of `from <level dots><written> import …` inside `package`."""
    if not level:
        return written
    if package is None:
        return None
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([written] if written else [])) or None
