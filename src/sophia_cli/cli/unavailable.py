"""Commands that are designed but not built yet say so, with exit code 2."""

from __future__ import annotations

import typer

from sophia_cli.core.errors import NotAvailableError


def register_unavailable(app: typer.Typer, name: str, summary: str) -> None:
    """Add `sophia NAME ...` that accepts any arguments and explains it is not available."""

    def not_available(ctx: typer.Context) -> None:
        raise NotAvailableError(
            f"`sophia {name}` is not available yet",
            hint="It is planned; `sophia --help` lists what works today.",
        )

    app.command(
        name,
        help=f"{summary} (not available yet)",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )(not_available)
