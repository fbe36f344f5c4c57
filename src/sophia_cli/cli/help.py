"""Help text that reads well anywhere, and costs little to print.

Help is Click's plain layout (no boxes: it pipes into `less` and files cleanly, and skips
the ~100 ms of Rich imports Typer's Rich help needs), with the commands grouped by panel,
each with its whole first sentence. Typer shows `<bool>` beside every flag (flags take no
value) and our docstrings' line breaks would fold again at the terminal width; both are
fixed here, once, for every command.
"""

from __future__ import annotations

from typing import Any

_PATCHED = False
# Panels print in this order (the root app sets it); others follow as they come.
PANEL_ORDER: list[str] = []


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


def first_sentence(text: str) -> str:
    """The summary shown in a command list: the first sentence, whole."""
    paragraph = text.split("\n\n", 1)[0]
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def _grouped_commands(self: Any, ctx: Any, formatter: Any) -> None:
    """Commands listed under their panel (as the Rich help would), summaries never cut."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for name in self.list_commands(ctx):
        command = self.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        panel = getattr(command, "rich_help_panel", None) or "Commands"
        sections.setdefault(panel, []).append((name, command.get_short_help_str(limit=500)))

    def rank(panel: str) -> int:
        return PANEL_ORDER.index(panel) if panel in PANEL_ORDER else len(PANEL_ORDER)

    for panel, rows in sorted(sections.items(), key=lambda item: rank(item[0])):
        with formatter.section(panel):
            formatter.write_dl(rows)


def tidy(command: Any) -> Any:
    """Plain, reflowed help for `command` and every subcommand (a Click command tree)."""
    import inspect
    from types import MethodType

    command.rich_markup_mode = None
    if command.help:
        command.help = reflow(inspect.cleandoc(command.help))
        command.short_help = first_sentence(command.help)
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        command.format_commands = MethodType(_grouped_commands, command)
        for sub in subcommands.values():
            tidy(sub)
    return command
