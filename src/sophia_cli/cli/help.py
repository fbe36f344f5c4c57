"""Help text that reads well: no type markers on flags, no line breaks mid-sentence.

Typer's Rich help prints `<bool>` beside every flag (flags take no value) and keeps the line
breaks of our docstrings, which then fold again at the terminal width, breaking sentences
in odd places. Both are fixed here, once, for every command.
"""

from __future__ import annotations

from typing import Any

_PATCHED = False


def _value_marker(original: Any) -> Any:
    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False):
            return None  # a flag is given or not: there is no value to describe
        label = original(self, ctx)
        if not isinstance(label, str):
            return None
        if label.startswith("<list[") and label.endswith("]>"):
            label = f"<{label[6:-2]}>..."  # repeatable: `-c config -c stores`
        return label.replace("%Y-%m-%d", "YYYY-MM-DD")

    return display_type_rich


def drop_flag_markers() -> None:
    """Patch Typer's option type column (idempotent)."""
    global _PATCHED
    if _PATCHED:
        return
    from typer.core import TyperArgument, TyperOption

    for kind in (TyperOption, TyperArgument):
        kind.display_type_rich = _value_marker(kind.display_type_rich)  # type: ignore[method-assign]
    _PATCHED = True


def reflow(text: str | None) -> str | None:
    """Join the lines of each paragraph; keep blank lines, `\\b` blocks and indented lines."""
    if not text:
        return text
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = paragraph.split("\n")
        if paragraph.startswith("\b") or any(line.startswith((" ", "-", "$")) for line in lines):
            paragraphs.append(paragraph)
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def tidy(command: Any) -> Any:
    """Reflow the help of `command` and every subcommand (a Click command tree)."""
    import inspect

    if command.help:
        command.help = reflow(inspect.cleandoc(command.help))
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)
    return command
