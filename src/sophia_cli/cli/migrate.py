"""`sophia migrate`: reviewable, atomic, reversible migrations of a source tree."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sophia_cli.cli import completion, output
from sophia_cli.cli.output import FormatOption, JsonOption, escape
from sophia_cli.cli.state import listing_json, wants_json
from sophia_cli.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from sophia_cli.core.migrate.models import AppliedMigration, MigrationPreview, PortScan

app = typer.Typer(
    help="Port standardisation and consolidation as reviewable, atomic, reversible plans.\n\n"
    "Every command is a dry run (a diff and a summary) until --apply.",
    no_args_is_help=True,
)

PathArg = Annotated[Path, typer.Argument(help="Root of the tree to migrate.", show_default=True)]
ApplyOption = Annotated[
    bool, typer.Option("--apply", help="Write the changes (atomically, journaled for rollback).")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
AllOption = Annotated[
    bool, typer.Option("--all", help="In a git repo, include untracked files (not ignored ones).")
]
DiffOption = Annotated[bool, typer.Option("--diff/--no-diff", help="Show the per-file diff.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Delete files still referenced.")]
IncludeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        "-i",
        metavar="GLOB",
        help="Also edit files matching GLOB (beyond the plan's globs, history files too); "
        "repeatable.",
    ),
]
VerifyOption = Annotated[
    bool,
    typer.Option(
        "--verify/--no-verify",
        help="After a move, import every touched module in a child interpreter.",
    ),
]
_MAX_SPOTS = 50


def _print_diff(diff: str) -> None:
    console = output.stdout()
    for line in diff.splitlines():
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        from rich.text import Text

        console.print(Text(line, style=style))


def _print_preview(preview: MigrationPreview, show_diff: bool) -> None:
    console = output.stdout()
    if show_diff:
        for change in preview.changes:
            _print_diff(change.diff or f"{change.action} {change.path}")
    if preview.review:
        spots = [
            [f"{s.path}:{s.line}:{s.column}", escape(s.text), s.reason]
            for s in preview.review[:_MAX_SPOTS]
        ]
        console.print(output.table("Needs review (not edited)", ["where", "line", "why"], spots))
        if len(preview.review) > _MAX_SPOTS:
            output.say(f"… and {len(preview.review) - _MAX_SPOTS} more (see --json)")
    _print_notes(preview)
    for refusal in preview.refusals:
        users = f": {', '.join(refusal.referenced_by)}" if refusal.referenced_by else ""
        output.say(
            f"[red]refused[/] {refusal.kind} {escape(refusal.path)}: "
            f"{escape(refusal.reason)}{escape(users)}"
        )
    rows: list[list[object]] = [
        [s.index, s.kind, escape(s.summary), s.files, s.edits, escape("; ".join(s.notes))]
        for s in preview.steps
    ]
    console.print(
        output.table(
            f"Plan {preview.plan} on {preview.root}",
            ["#", "step", "what", "files", "edits", "notes"],
            rows,
        )
    )
    console.print(
        f"{len(preview.changes)} file(s) to change, {preview.edits} edit(s), "
        f"{len(preview.review)} need review, {len(preview.refusals)} refused, "
        f"{len(preview.skipped)} skipped, {preview.files_scanned} scanned"
    )


def _print_notes(preview: MigrationPreview) -> None:
    """Renames to review, warnings, files left out, and what to do by hand."""
    console = output.stdout()
    if preview.rewrites:
        rows = [
            [f"{r.path}:{r.line}", escape(r.old), escape(r.new), escape(r.note or "")]
            for r in preview.rewrites[:_MAX_SPOTS]
        ]
        console.print(output.table("Renames (review each)", ["where", "was", "now", "note"], rows))
        if len(preview.rewrites) > _MAX_SPOTS:
            output.say(f"… and {len(preview.rewrites) - _MAX_SPOTS} more (see --json)")
    for warning in preview.warnings:
        output.say(
            f"[yellow]warning[/] {escape(warning.path)}:{warning.line}: {escape(warning.message)}"
        )
    if preview.not_scanned:
        paths = sorted({n.path for n in preview.not_scanned})
        reasons = sorted({n.reason for n in preview.not_scanned})
        output.say(
            f"[yellow]not scanned[/]: {len(paths)} file(s) with matches ({', '.join(reasons)}), "
            f"use --include GLOB: {escape(', '.join(paths[:10]))}"
            + (" …" if len(paths) > 10 else "")
        )
    for follow_up in preview.follow_ups:
        output.say(f"[cyan]to do[/] {escape(follow_up)}")


def _progress_notice(done: int, total: int) -> None:
    output.say(f"applying {total} change(s)…")
    sys.stderr.flush()


def _execute(
    preview: MigrationPreview,
    *,
    apply: bool,
    yes: bool,
    as_json: bool,
    show_diff: bool,
    verify: bool = True,
) -> None:
    """Show the preview; apply it when asked; exit 10 while changes or refusals remain.

    Exit 1 when the verification step finds a module this migration broke.
    """
    from sophia_cli.core.migrate import run as core

    if not as_json or not apply:
        _show_preview(preview, as_json=as_json, show_diff=show_diff)
    if not apply:
        pending = preview.pending or bool(preview.refusals)
        raise typer.Exit(ExitCode.CHANGES_PENDING if pending else ExitCode.OK)
    if preview.changes and not yes and sys.stdin.isatty():
        question = f"Apply {len(preview.changes)} change(s) to {preview.root}?"
        typer.confirm(question, abort=True, err=True)
    applied = core.apply_verified(preview, verify=verify, on_start=_progress_notice)
    if as_json:
        output.emit_json(applied)
    elif not applied.id:
        output.say("nothing to apply")
    else:
        output.say(
            f"[green]applied[/] migration {applied.id}: {applied.files_changed} file(s), "
            f"{applied.edits} edit(s). Undo with: sophia migrate rollback {applied.id} "
            f"--path {escape(applied.root)}"
        )
        _print_verification(applied)
    if applied.broken:
        raise typer.Exit(ExitCode.FAILURE)
    raise typer.Exit(ExitCode.CHANGES_PENDING if applied.refusals else ExitCode.OK)


def _print_verification(applied: AppliedMigration) -> None:
    if not applied.verification:
        return
    ok = sum(check.after for check in applied.verification)
    output.say(f"verified: {ok} of {len(applied.verification)} touched module(s) import")
    for check in applied.verification:
        if check.after:
            continue
        when = "broken by this migration" if check.broken else "already failing before it"
        output.say(
            f"[red]✗[/] {escape(check.module)} ({escape(check.path)}), {when}: "
            f"{escape(check.error or '')}"
        )
    if applied.broken:
        output.say(f"undo with: sophia migrate rollback {applied.id} --path {escape(applied.root)}")


def _show_preview(preview: MigrationPreview, *, as_json: bool, show_diff: bool) -> None:
    if as_json:
        output.emit_json(preview)
    else:
        _print_preview(preview, show_diff)


@app.command()
def ports(
    ctx: typer.Context,
    path: PathArg = Path("."),
    from_port: Annotated[
        int, typer.Option("--from", min=1, max=65535, help="The legacy port to replace.")
    ] = 8003,
    to_port: Annotated[
        int, typer.Option("--to", min=1, max=65535, help="The port to use instead.")
    ] = 8000,
    scan: Annotated[
        bool,
        typer.Option(
            "--scan", help="List every port the tree uses, conflicts and listeners; edit nothing."
        ),
    ] = False,
    apply: ApplyOption = False,
    yes: YesOption = False,
    include_untracked: AllOption = False,
    include: IncludeOption = None,
    show_diff: DiffOption = True,
    json_output: JsonOption = False,
) -> None:
    """Replace a port only where it is a port (never in 18003, 1.8003, #8003ff, 10.8.0.3).

    Dry run by default: exit 0 when nothing is left, 10 when changes are pending.

    Example: sophia migrate ports --from 8003 --to 8000 ./platform --apply
    """
    from sophia_cli.core.migrate import run as core

    as_json = wants_json(ctx, json_output)
    if scan:
        _show_scan(core.scan_ports(path), as_json)
        return
    if from_port == to_port:
        raise UsageError(f"--from and --to are both {from_port}", hint="Pass two different ports.")
    plan = core.ports_plan(from_port, to_port)
    preview = core.compute_plan(
        plan, path, include_untracked=include_untracked, include=tuple(include or ())
    )
    _execute(preview, apply=apply, yes=yes, as_json=as_json, show_diff=show_diff)


def _show_scan(result: PortScan, as_json: bool) -> None:
    if as_json:
        output.emit_json(result)
        return
    rows = [
        [
            p.port,
            p.uses,
            "yes" if p.listening else "",
            escape(", ".join(p.claimed_by)),
            "[red]CONFLICT[/]" if p.conflict else "",
            escape(", ".join(p.files[:4])),
        ]
        for p in result.ports
    ]
    console = output.stdout()
    console.print(
        output.table(
            f"Ports referenced in {result.root}",
            ["port", "uses", "listening", "claimed by", "", "files"],
            rows,
        )
    )
    for use in result.uses:
        from rich.text import Text

        console.print(Text(f"{use.port:>5}  {use.path}:{use.line}  {use.text}"))


@app.command("run")
def run_plan(
    ctx: typer.Context,
    plan: Annotated[
        str,
        typer.Argument(
            help="A plan YAML file, or a preset name.",
            autocompletion=completion.complete_presets,
        ),
    ],
    path: PathArg = Path("."),
    apply: ApplyOption = False,
    yes: YesOption = False,
    force: ForceOption = False,
    include_untracked: AllOption = False,
    include: IncludeOption = None,
    verify: VerifyOption = True,
    show_diff: DiffOption = True,
    json_output: JsonOption = False,
) -> None:
    """Run a plan (YAML file or preset) on a tree: a diff first, then --apply.

    Presets: ports, consolidate, openrouter-to-litellm (`sophia migrate presets`). History
    files (CHANGELOG, release notes) are never edited unless named by --include. After a
    move, --apply imports every touched module in a child interpreter and exits 1 if one
    that imported before no longer does.

    Example: sophia migrate run openrouter-to-litellm ./platform
    """
    from sophia_cli.core.migrate import run as core

    loaded = core.load_plan(plan)
    preview = core.compute_plan(
        loaded, path, include_untracked=include_untracked, force=force, include=tuple(include or ())
    )
    _execute(
        preview,
        apply=apply,
        yes=yes,
        as_json=wants_json(ctx, json_output),
        show_diff=show_diff,
        verify=verify,
    )


@app.command()
def rollback(
    ctx: typer.Context,
    migration_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[ID]", help="Migration to undo (default: the latest not rolled back)."
        ),
    ] = None,
    path: Annotated[Path, typer.Option("--path", help="Root of the migrated tree.")] = Path("."),
    yes: YesOption = False,
    force: Annotated[
        bool, typer.Option("--force", help="Also overwrite files edited since the migration.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Restore byte-identical originals of a migration (refuses files edited since).

    Example: sophia migrate rollback --path ./platform
    """
    from sophia_cli.core.migrate import run as core

    if not yes and sys.stdin.isatty():
        which = migration_id or "the latest migration"
        typer.confirm(f"Roll back {which} in {path}?", abort=True, err=True)
    output.say(f"rolling back {migration_id or 'the latest migration'} in {escape(str(path))}…")
    sys.stderr.flush()
    result = core.rollback(path, migration_id, force=force)
    if wants_json(ctx, json_output):
        output.emit_json(result)
        return
    output.say(
        f"[green]rolled back[/] {result.id}: {len(result.restored)} file(s) restored, "
        f"{len(result.already_original)} already original"
    )


@app.command()
def history(
    ctx: typer.Context,
    path: Annotated[Path, typer.Option("--path", help="Root of the migrated tree.")] = Path("."),
    json_output: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """List the migrations applied to a tree, newest first.

    Example: sophia migrate history --path ./platform
    """
    from sophia_cli.core.migrate import run as core

    records = core.history(path)
    if listing_json(ctx, json_output, fmt):
        output.emit_json(records)
        return
    rows = [[r.id, r.plan, f"{r.created_at:%Y-%m-%d %H:%M:%S}", r.status, r.files] for r in records]
    output.stdout().print(
        output.table(None, ["id", "plan", "applied (UTC)", "status", "files"], rows)
    )


@app.command()
def presets(ctx: typer.Context, json_output: JsonOption = False, fmt: FormatOption = None) -> None:
    """List the plans shipped with sophia and their steps.

    Example: sophia migrate presets
    """
    from sophia_cli.core.migrate import run as core

    plans = [core.load_plan(name) for name in core.preset_names()]
    if listing_json(ctx, json_output, fmt):
        output.emit_json([p.model_dump(mode="json", by_alias=True) for p in plans])
        return
    rows = [[p.name, escape(p.description), ", ".join(s.kind for s in p.steps)] for p in plans]
    output.stdout().print(output.table(None, ["preset", "what", "steps"], rows))
