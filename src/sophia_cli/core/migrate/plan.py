"""Plans: an ordered list of typed steps, loaded from YAML with line-accurate errors."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml  # type: ignore[import-untyped,unused-ignore]
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sophia_cli.core.errors import InputError, NotFoundError

DEFAULT_GLOBS = (
    "**/*.{py,sh,md,yaml,yml,json,toml,env,ini,cfg,conf}",
    "Dockerfile*",
    "Procfile*",
    "*.env*",
)
# History is a record of what was true: a migration never rewrites it unless asked by --include.
HISTORY_GLOBS = (
    "**/{CHANGELOG,CHANGES,HISTORY,NEWS,RELEASES,RELEASE_NOTES,RELEASE-NOTES}*",
    "**/{changelog,changes,history,news,releases,release_notes,release-notes}.{md,rst,txt}",
    "**/{changelog,changelog.d,changes,release-notes,release_notes,releasenotes}/**",
)


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ReplacePortStep(_Step):
    """Replace a port number only where it is used as a port."""

    kind: Literal["replace_port"] = "replace_port"
    from_port: int = Field(alias="from", ge=1, le=65535)
    to_port: int = Field(alias="to", ge=1, le=65535)


class MoveStep(_Step):
    """Move a file and rewrite imports of and references to it across the tree."""

    kind: Literal["move"] = "move"
    source: str = Field(alias="from", min_length=1)
    target: str = Field(alias="to", min_length=1)


class DeleteStep(_Step):
    """Delete a file, refused while anything imports or references it."""

    kind: Literal["delete"] = "delete"
    path: str = Field(min_length=1)


class RenameEnvStep(_Step):
    """Rename an environment variable wherever it is defined or read, keeping values."""

    kind: Literal["rename_env"] = "rename_env"
    old: str
    new: str
    # A secret's value is never carried to the new name (default: judged from the name).
    secret: bool | None = None

    @field_validator("old", "new")
    @classmethod
    def _is_env_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value


class ReplaceTextStep(_Step):
    """A literal or regex rewrite, with word boundaries by default."""

    kind: Literal["replace_text"] = "replace_text"
    pattern: str = Field(min_length=1)
    replacement: str
    regex: bool = False
    word_boundary: bool = True
    ignore_case: bool = False
    globs: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _compiles(self) -> ReplaceTextStep:
        if self.regex:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return self


class FlagStep(_Step):
    """List every match for review without editing it (what no rule can rewrite safely)."""

    kind: Literal["flag"] = "flag"
    pattern: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    regex: bool = False
    ignore_case: bool = False
    globs: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _compiles(self) -> FlagStep:
        if self.regex:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return self


Step = Annotated[
    ReplacePortStep | MoveStep | DeleteStep | RenameEnvStep | ReplaceTextStep | FlagStep,
    Field(discriminator="kind"),
]


class Plan(BaseModel):
    """A named, ordered list of steps and the files they may touch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = ""
    globs: tuple[str, ...] = DEFAULT_GLOBS
    exclude: tuple[str, ...] = HISTORY_GLOBS
    steps: tuple[Step, ...] = Field(min_length=1)


def ports_plan(from_port: int, to_port: int) -> Plan:
    """The plan behind `sophia migrate ports`."""
    return Plan(
        name=f"ports-{from_port}-to-{to_port}",
        description=f"Replace port {from_port} by {to_port} where it is used as a port.",
        steps=(ReplacePortStep.model_validate({"from": from_port, "to": to_port}),),
    )


def preset_names() -> list[str]:
    """Names of the plans shipped in the package."""
    folder = resources.files("sophia_cli.core.migrate") / "presets"
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_plan(name_or_path: str) -> Plan:
    """A preset by name, or a plan YAML file by path."""
    path = Path(name_or_path)
    if path.is_file():
        return parse_plan(path.read_text(encoding="utf-8"), source=str(path))
    if name_or_path in preset_names():
        folder = resources.files("sophia_cli.core.migrate") / "presets"
        text = (folder / f"{name_or_path}.yaml").read_text(encoding="utf-8")
        return parse_plan(text, source=f"preset {name_or_path}")
    raise NotFoundError(
        f"no plan file or preset named {name_or_path!r}",
        hint=f"Pass a YAML file, or one of the presets: {', '.join(preset_names())}.",
    )


def parse_plan(text: str, *, source: str = "<plan>") -> Plan:
    """Validate plan YAML; errors name the file, line and field at fault."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise InputError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if node is None:
        raise InputError(f"{source}: the plan is empty", hint="A plan needs `name` and `steps`.")
    lines: dict[tuple[str | int, ...], int] = {}
    data = _construct(node, (), lines)
    if isinstance(data, dict) and isinstance(data.get("steps"), list):
        data["steps"] = [_shorthand(step) for step in data["steps"]]
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(part for part in first["loc"] if not _is_tag(part))
        line = max(_line_for(first["loc"], lines), _line_for(loc, lines))
        field = ".".join(str(part) for part in loc) or "plan"
        raise InputError(
            f"{source}:{line}: {field}: {first['msg']}",
            hint="Steps are replace_port, move, delete, rename_env, replace_text or flag; "
            "see `sophia migrate presets` for examples.",
        ) from exc


_STEP_KINDS = frozenset({"replace_port", "move", "delete", "rename_env", "replace_text", "flag"})


def _is_tag(part: str | int) -> bool:
    """Pydantic puts the union member's tag in error locations; people never wrote it."""
    return isinstance(part, str) and part in _STEP_KINDS


def _shorthand(step: Any) -> Any:
    """`- replace_port: {from: 1, to: 2}` is accepted for `- kind: replace_port ...`."""
    if isinstance(step, dict) and len(step) == 1 and "kind" not in step:
        ((kind, body),) = step.items()
        if isinstance(body, dict):
            return {"kind": kind, **body}
    return step


def _construct(node: yaml.Node, path: tuple[str | int, ...], lines: dict[Any, int]) -> Any:
    """Plain data from a YAML node, remembering the line of every path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            result[key] = _construct(value_node, (*path, key), lines)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _line_for(loc: tuple[str | int, ...], lines: dict[Any, int]) -> int:
    """The line of the longest known prefix of an error location."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1
