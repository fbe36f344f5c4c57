"""The registry of doctor checks.

Built-in checks live one module per area in `core/doctor/checks/` and call `register(...)`
at import; every module in that package is loaded, so adding a check never means editing a
central list. Tests register a fake check and remove it with `unregister`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from sophia_cli.core.doctor.models import Outcome
from sophia_cli.core.settings import Settings

CheckFunction = Callable[[Settings], Outcome]


@dataclass(frozen=True)
class Check:
    """A named health check with a category and a time limit.

    `required` checks decide `/ready`; others only inform.
    """

    name: str
    category: str
    run: CheckFunction
    timeout_s: float = 5.0
    required: bool = True


_checks: dict[str, Check] = {}


def register(check: Check) -> Check:
    """Add a check (replacing one of the same name)."""
    _checks[check.name] = check
    return check


def unregister(name: str) -> None:
    _checks.pop(name, None)


def check(
    name: str, category: str, *, timeout_s: float = 5.0, required: bool = True
) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator form of register()."""

    def decorate(function: CheckFunction) -> CheckFunction:
        register(Check(name, category, function, timeout_s=timeout_s, required=required))
        return function

    return decorate


def load_builtin_checks() -> None:
    """Import every module of the checks package so each registers its checks."""
    package = importlib.import_module("sophia_cli.core.doctor.checks")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


# Categories print in this order; categories added later follow, alphabetically.
CATEGORY_ORDER = ("config", "stores", "ports", "mcp")


def _category_rank(category: str) -> tuple[int, str]:
    if category in CATEGORY_ORDER:
        return (CATEGORY_ORDER.index(category), "")
    return (len(CATEGORY_ORDER), category)


def registered() -> list[Check]:
    """Every registered check, built-ins loaded, ordered by category."""
    load_builtin_checks()
    return sorted(_checks.values(), key=lambda c: _category_rank(c.category))


def categories() -> list[str]:
    """The categories of the registered checks, in print order (for `--category`)."""
    return list(dict.fromkeys(check.category for check in registered()))
