"""`sophia env`: check, consolidate and scan the layered configuration."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import JsonOption, escape
from sophia_cli.cli.state import settings, state, wants_json
from sophia_cli.core.environment import Environment
from sophia_cli.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from sophia_cli.core.env.check import EnvReport
    from sophia_cli.core.env.consolidate import ConsolidationPlan
    from sophia_cli.core.env.findings import Finding
    from sophia_cli.core.env.scan.scanner import ScanReport

app = typer.Typer(
    help="Validate, consolidate and secure the layered configuration; find hard-coded secrets.",
    no_args_is_help=True,
)


class CheckFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    GITHUB = "github"


EnvOption = Annotated[
    Environment | None,
    typer.Option(
        "--env", "-e", help="Environment to check (default: SOPHIA_ENV, else development)."
    ),
]
DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        "-d",
        help="Project folder holding the .env.* files (default: found from here upwards).",
        file_okay=False,
    ),
]
# Keys are Severity values (a StrEnum), so findings look their mark up directly.
_MARKS = {"error": "[red]✗[/]", "warning": "[yellow]![/]", "info": "[dim]i[/]"}


@app.command()
def check(
    ctx: typer.Context,
    env: EnvOption = None,
    directory: DirOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    output_format: Annotated[
        CheckFormat,
        typer.Option("--format", "-f", help="text, json, sarif (SARIF 2.1.0) or github."),
    ] = CheckFormat.TEXT,
    json_output: JsonOption = False,
) -> None:
    """Check every layer of the configuration and report all problems at once.

    Layers, lowest to highest: .env.example, .env.development or .env.production,
    .env.master, the process environment; unset secrets come from the keyring. Secrets are
    shown masked. Exit 0 when clean, 1 on errors (or warnings with --strict).

    Example: sophia env check --env production --format sarif > env.sarif
    """
    from sophia_cli.core.env.check import check_environment
    from sophia_cli.core.env.findings import CHECK_CODES
    from sophia_cli.core.env.sarif import finding_results, github_annotations, sarif_document

    report = check_environment(directory or state(ctx).project_dir(), env)
    fmt = CheckFormat.JSON if wants_json(ctx, json_output) else output_format
    if fmt is CheckFormat.JSON:
        output.emit_json(report)
    elif fmt is CheckFormat.SARIF:
        document = sarif_document("sophia env check", CHECK_CODES, finding_results(report.findings))
        import json

        typer.echo(json.dumps(document, indent=2))
    elif fmt is CheckFormat.GITHUB:
        typer.echo(github_annotations(report.findings), nl=False)
    else:
        _print_check(report)
    raise typer.Exit(report.exit_code(strict=strict))


def _print_check(report: EnvReport) -> None:
    # The template and the defaults are the same for everyone; show what this setup sets.
    shown = [v for v in report.variables if not v.layer.startswith(("default", ".env.example"))]
    rows = [
        [v.name, escape(v.value or ""), escape(v.layer), escape(", ".join(v.overrides))]
        for v in shown
    ]
    console = output.stdout()
    title = f"{report.environment.value}: {' < '.join(report.layers) or 'no env files'} < process"
    output.say(f"project folder: {report.directory}")
    if rows:
        console.print(output.table(title, ["variable", "value", "from", "overrides"], rows))
    else:
        console.print(f"{title}: nothing set beyond the template and the defaults")
    for finding in report.findings:
        console.print(_finding_line(finding), highlight=False)
    s = report.summary
    defaults = len(report.variables) - len(shown)
    output.say(
        f"{s.errors} error(s), {s.warnings} warning(s), {s.infos} note(s); "
        f"{defaults} more variable(s) from the template or defaults (--json lists all)"
    )


def _finding_line(finding: Finding) -> str:
    where = finding.file or ""
    if finding.file and finding.line:
        where += f":{finding.line}"
    location = f"{escape(where)} " if where else ""
    hint = f"\n    [dim]{escape(finding.hint)}[/]" if finding.hint else ""
    return f"{_MARKS[finding.severity]} {location}{finding.code}: {escape(finding.message)}{hint}"


class ScanFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


@app.command()
def scan(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Folder (or file) to scan.")] = Path("."),
    baseline: Annotated[
        Path | None, typer.Option("--baseline", "-b", help="Ignore findings accepted in this file.")
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Accept every current finding into this file."),
    ] = None,
    output_format: Annotated[
        ScanFormat, typer.Option("--format", "-f", help="text, json or sarif (SARIF 2.1.0).")
    ] = ScanFormat.TEXT,
    history: Annotated[
        bool,
        typer.Option(
            "--history", help="Scan the lines every commit added (all refs), not the work tree."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Find hard-coded secrets in a code tree (git-tracked and unignored files).

    Provider tokens (Slack, OpenAI, OpenRouter, Anthropic, HubSpot, Asana, SendGrid, AWS,
    GitHub), Slack webhooks, JWTs, private keys (also escaped in JSON or indented in YAML),
    database URLs with passwords, and random values, punctuation included, under
    secret-looking names. A finding shows rule, file, line and a fixed mask: nothing of the
    secret beyond a public prefix such as `xoxb-`. `# sophia: allow-secret` on a line accepts
    it; a baseline keeps accepting a finding when its file is renamed. Exit 1 on new findings.

    Example: sophia env scan . --baseline .secrets-baseline.json --format sarif
    """
    from sophia_cli.core.env.scan.baseline import read_baseline
    from sophia_cli.core.env.scan.baseline import write_baseline as save_baseline
    from sophia_cli.core.env.scan.scanner import baseline_of, scan_tree

    accepted = read_baseline(baseline) if baseline is not None else None
    if history:
        from sophia_cli.core.env.scan.history import scan_history

        report = scan_history(path, accepted)
    else:
        report = scan_tree(path, accepted)
    if write_baseline is not None:
        save_baseline(write_baseline, baseline_of(report))
        output.say(f"wrote {len(report.findings)} finding(s) to {write_baseline}")
        return
    fmt = ScanFormat.JSON if wants_json(ctx, json_output) else output_format
    if fmt is ScanFormat.JSON:
        output.emit_json(report)
    elif fmt is ScanFormat.SARIF:
        import json

        typer.echo(json.dumps(_scan_sarif(report), indent=2))
    else:
        _print_scan(report)
    raise typer.Exit(report.exit_code)


def _scan_sarif(report: ScanReport) -> dict[str, object]:
    from sophia_cli.core.env.sarif import SarifResult, sarif_document
    from sophia_cli.core.env.scan.rules import RULES

    results = [
        SarifResult(
            rule_id=f.rule,
            level="error",
            message=f"possible secret: {f.excerpt}"
            + (f" (added in commit {f.commit})" if f.commit else ""),
            file=f.file,
            line=f.line,
            fingerprint=f.fingerprint,
        )
        for f in report.findings
    ]
    return sarif_document("sophia env scan", {r.id: r.description for r in RULES}, results)


def _print_scan(report: ScanReport) -> None:
    console = output.stdout()
    for f in report.findings:
        commit = f" [dim](commit {f.commit})[/]" if f.commit else ""
        console.print(
            f"[red]✗[/] {escape(f.file)}:{f.line}{commit} [bold]{f.rule}[/]  {escape(f.excerpt)}",
            highlight=False,
            soft_wrap=True,  # one finding per line, whatever the width: grep-able
        )
    output.say(
        f"{len(report.findings)} new finding(s) in {report.files_scanned} file(s); "
        f"{report.baselined} baselined, {report.allowed} allowed inline ({report.duration_s}s)"
    )


@app.command()
def consolidate(
    ctx: typer.Context,
    env: EnvOption = None,
    directory: DirOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write (default: .env.<env>).")
    ] = None,
    to_keyring: Annotated[
        bool, typer.Option("--to-keyring", help="Move secrets into the keyring, leave references.")
    ] = False,
    write_example: Annotated[
        bool,
        typer.Option("--write-example", help="Regenerate .env.example from the settings model."),
    ] = False,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the file (default: show the plan).")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Apply without asking (needed when not at a terminal)."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Merge the env files of one environment into one canonical file (plan first).

    Sorted and grouped by section, known keys commented, deprecated names rewritten, written
    atomically with mode 600, the previous file kept in SOPHIA_HOME/env-backups. Without --apply
    only the (masked) diff is shown and the exit code is 10 when something would change.

    Example: sophia env consolidate --env production --to-keyring --apply --yes
    """
    from sophia_cli.core.env.consolidate import (
        apply_consolidation,
        plan_consolidation,
        plan_example,
    )

    directory = directory or state(ctx).project_dir()
    if write_example and (to_keyring or out is not None):
        raise UsageError("--write-example cannot be combined with --to-keyring or --out")
    planned = (
        plan_example(directory)
        if write_example
        else plan_consolidation(directory, env, out=out, to_keyring=to_keyring)
    )
    plan = planned.plan
    if apply and plan.changed and not yes:
        _confirm(plan)
    if apply and plan.changed:
        keyring = None
        if planned.moves:
            from sophia_cli.store.keyring import open_keyring

            keyring = open_keyring(settings(ctx))
        backups = settings(ctx).home / "env-backups"
        plan = apply_consolidation(planned, keyring, backup_dir=backups)
    if wants_json(ctx, json_output):
        output.emit_json(plan)
    else:
        _print_plan(plan)
    if plan.changed and not plan.applied:
        raise typer.Exit(ExitCode.CHANGES_PENDING)


def _confirm(plan: ConsolidationPlan) -> None:
    """Ask before writing; refuse (rather than hang or guess) when nobody can answer."""
    import sys

    if not sys.stdin.isatty():
        raise UsageError(
            "--apply writes env files and is confirmed interactively",
            hint="Review the plan (run without --apply), then add --yes to apply it.",
        )
    _print_plan(plan)
    touched = [plan.target, *plan.scrubbed]
    if not typer.confirm(f"Write {', '.join(touched)}?", err=True):
        raise typer.Abort()


def _print_plan(plan: ConsolidationPlan) -> None:
    if plan.diff:
        output.stdout().print(escape(plan.diff), highlight=False, end="")
    for old, new in plan.renamed.items():
        output.say(f"renamed {old} → {new}")
    if plan.to_keyring:
        verb = "moved" if plan.applied else "would move"
        output.say(f"{verb} to the keyring: {', '.join(plan.to_keyring)}")
    for path in plan.scrubbed:
        verb = "replaced" if plan.applied else "would replace"
        output.say(f"{verb} the plaintext in {path} with keyring references")
    if not plan.changed:
        output.say(f"{plan.target} is already consolidated")
    elif plan.applied:
        backup = f" (previous file: {plan.backup})" if plan.backup else ""
        output.say(f"wrote {plan.target}{backup}")
    else:
        output.say("nothing written; run again with --apply to write")
