"""The root's options that may be written anywhere on the line, named once.

Read by the CLI (which moves them before the command) and by the warm client (which must
find the command word without importing Typer).
"""

from __future__ import annotations

SWITCHES = ("--json", "--debug")
HOISTED_VALUED = ("--env-file",)  # valued options the CLI also accepts after the command
VALUED = ("--env-file", "--dir")  # every root option that takes a value
