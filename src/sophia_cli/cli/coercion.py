"""Typer's value coercion, built only when a value needs it.

Typer 0.29 checks every parameter's value through a pydantic `TypeAdapter` it builds on
first use, even when the value is a missing option (`None`) or a plain string typed for a
`str` parameter. Building one costs the pydantic import (~40 ms) plus ~10 ms per adapter,
paid by `sophia db --help` (the root's `--env-file`/`--dir` are checked before the group's
help prints) and by every `sophia ask "…"`. Those two cases have one possible answer, so
they are answered here; any other value goes through Typer's own coercion, unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from typer._click import Context
from typer._coercion import RuntimeParam, build_runtime_param
from typer.core import _TyperParameter


@dataclass(frozen=True)
class DeferredCoercion(RuntimeParam):
    """Stands in for Typer's coercion until a value needs more than the identity."""

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        # `RuntimeParam.coerce` already answered `None` (no value given) without us.
        if self.annotation is str and self.parameter_info.parser is None:
            if isinstance(value, str):
                return value  # Typer's str adapter returns `str(value)`: the same string
        real = build_runtime_param(param.type_descriptor)
        param._runtime_param = real  # later values of this parameter go straight to Typer
        return real.coerce(value, param=param, ctx=ctx)


def _deferred(self: _TyperParameter) -> RuntimeParam:
    if self._runtime_param is None:
        descriptor = self.type_descriptor
        self._runtime_param = DeferredCoercion(
            parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
        )
    return self._runtime_param


def defer_coercion() -> None:
    """Make every Typer parameter start with the deferred coercion (idempotent).

    Patched on the class rather than on each parameter: Typer makes some parameters (the
    help option) only while parsing.
    """
    _TyperParameter.get_runtime_param = _deferred  # type: ignore[method-assign]
