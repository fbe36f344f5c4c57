"""Global options shared by every command, kept on the Typer context."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import Format
from sophia_cli.core.errors import UsageError

if TYPE_CHECKING:
    from sophia_cli.core.env.layers import Layers
    from sophia_cli.core.settings import Settings


@dataclass
class AppState:
    """What the root callback parsed: output mode, debug, and where settings come from."""

    json: bool = False
    debug: bool = False
    env_file: Path | None = None
    directory: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _unresolved: Layers | None = field(default=None, repr=False)

    def project_dir(self) -> Path:
        """The folder whose env files are read: `--dir`, else found from the working one."""
        if self.directory is not None:
            if not self.directory.is_dir():
                raise UsageError(
                    f"--dir {self.directory} is not a folder",
                    hint="Pass the project folder holding the .env.* files.",
                )
            return self.directory.resolve()
        from sophia_cli.core.env.project import find_project_dir

        return find_project_dir(Path.cwd())

    def settings(self, *, require_references: bool = True) -> Settings:
        """Settings loaded once per command through the layers of the project folder.

        Process environment > `--env-file` > .env.master > .env.<env> > .env.example, then
        the keyring for secrets still unset (see `sophia env check`). A secret reference
        that cannot be read fails here, unless the command is the one that can fix it
        (`sophia secrets`: `require_references=False`).
        """
        if self._settings is None:
            if self.env_file is not None and not self.env_file.is_file():
                raise UsageError(
                    f"--env-file {self.env_file} does not exist",
                    hint="Pass the path of an existing env file, or drop --env-file.",
                )
            import logging

            from sophia_cli.core.env.layers import load_layered

            # The pool's own retries would print one warning per attempt; the failure they
            # end in reaches the user once, as our error line.
            logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)

            self._settings, layers = load_layered(self.project_dir(), extra_file=self.env_file)
            self._unresolved = layers if layers.unresolved else None
            if self._settings.sentry_dsn is not None:
                from sophia_cli.core import errortracking

                errortracking.init(self._settings, "cli")
        if require_references and self._unresolved is not None:
            from sophia_cli.core.env.layers import raise_unresolved

            raise_unresolved(self._unresolved)
        return self._settings


def state(ctx: typer.Context) -> AppState:
    """The AppState of this invocation (a fresh one when called outside the root app)."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


def settings(ctx: typer.Context) -> Settings:
    return state(ctx).settings()


def wants_json(ctx: typer.Context, flag: bool) -> bool:
    """`--json` given on the command or on the root."""
    return flag or state(ctx).json


def listing_json(ctx: typer.Context, flag: bool, fmt: Format | None) -> bool:
    """For listing commands: remember `--format` for the tables, and whether to print JSON."""
    output.choose(fmt)
    return wants_json(ctx, flag) or output.chosen_json()
