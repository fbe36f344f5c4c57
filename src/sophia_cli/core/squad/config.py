"""Load the squads file: YAML to pydantic, with `file:line` in every error.

The built-in file ships in this package; SOPHIA_SQUADS_FILE replaces it. A squad named
`openrouter` (or a deployment pointing at OpenRouter) still loads, marked deprecated, with a
warning in `SquadsConfig.warnings` that every face shows (CLI on stderr, doctor as a warning).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from sophia_cli.core.errors import ConfigError, NotFoundError
from sophia_cli.core.settings import Settings

if TYPE_CHECKING:
    from sophia_cli.core.squad.models import Squad, SquadsConfig

BUILTIN = "squads.yaml"
DEPRECATED_SQUADS = ("openrouter",)
# LibYAML's loader when PyYAML was built with it: the pure-Python one costs ~25 ms per file.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_HINT = "Fix the squads file (see src/sophia_cli/core/squad/squads.yaml for the shape)."


def squads_path(settings: Settings) -> Path:
    """The squads file in use: SOPHIA_SQUADS_FILE or the built-in one."""
    if settings.sophia_squads_file is not None:
        return settings.sophia_squads_file.expanduser()
    return Path(str(resources.files("sophia_cli.core.squad").joinpath(BUILTIN)))


def load_squads(settings: Settings) -> SquadsConfig:
    """The validated squads config; raises ConfigError with file:line when it is malformed."""
    path = squads_path(settings)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(
            f"squads file {path} cannot be read: {exc.strerror or exc}",
            hint="Fix SOPHIA_SQUADS_FILE or unset it to use the built-in squads.",
        ) from exc
    return _load_cached(str(path), stat.st_mtime_ns, stat.st_size).model_copy(deep=True)


@lru_cache(maxsize=16)
def _load_cached(path: str, _mtime_ns: int, _size: int) -> SquadsConfig:
    # Keyed by mtime and size so an edited file is read again within one process.
    return parse_squads(Path(path).read_text(encoding="utf-8"), path)


def parse_squads(text: str, source: str) -> SquadsConfig:
    """Parse and validate squads YAML; `source` names the file in error messages."""
    from sophia_cli.core.squad.models import SquadsConfig

    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader, in C when built)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"{source}{line}: {reason}", hint=_HINT) from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: expected a mapping with a `squads` key", hint=_HINT)
    try:
        config = SquadsConfig.model_validate({**data, "source": source})
    except ValidationError as exc:
        first = exc.errors()[0]
        # Composed again only here: node positions are for the error line alone.
        where = _line_of(yaml.compose(text, Loader=_LOADER), first["loc"])  # noqa: S506
        path = _dotted(first["loc"])
        raise ConfigError(f"{source}:{where}: {path}: {first['msg']}", hint=_HINT) from exc
    config.warnings = _deprecations(config)
    return config


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int:
    """The 1-based line of the deepest YAML node on a pydantic error path."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = value
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None


def _dotted(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "file"


def _deprecations(config: SquadsConfig) -> list[str]:
    """Mark OpenRouter squads deprecated and say how to migrate away from them."""
    warnings = []
    for name, squad in config.squads.items():
        if name in DEPRECATED_SQUADS or any(
            _is_openrouter(d.model, d.api_base) for d in squad.deployments
        ):
            squad.deprecated = True
            warnings.append(
                f"squad `{name}` uses OpenRouter, which is deprecated: move its deployments to "
                "the `litellm` or `aimlapi` squad (`sophia migrate` rewrites the references)"
            )
    return warnings


def _is_openrouter(model: str, api_base: str | None) -> bool:
    return model.startswith("openrouter/") or "openrouter.ai" in (api_base or "")


def squad_order(settings: Settings, config: SquadsConfig, requested: str | None) -> list[str]:
    """Squads to route through, in order: the requested one, else primary then the rest.

    Deprecated squads are only used when named explicitly (request or PRIMARY_SQUAD).
    """
    if requested is not None:
        return [_known(config, requested, "squad")]
    primary = _known(config, settings.primary_squad, "PRIMARY_SQUAD")
    others = [
        name for name, squad in config.squads.items() if name != primary and not squad.deprecated
    ]
    others.sort(key=lambda name: not config.squads[name].primary)
    return [primary, *others]


def _known(config: SquadsConfig, name: str, what: str) -> str:
    if name not in config.squads:
        known = ", ".join(sorted(config.squads))
        raise NotFoundError(
            f"{what} `{name}` is not in {config.source}",
            hint=f"Use one of: {known}; or add it to the squads file.",
        )
    return name


def squad(config: SquadsConfig, name: str) -> Squad:
    """One squad by name."""
    return config.squads[_known(config, name, "squad")]
