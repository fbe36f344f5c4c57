"""`sophia secrets`: keep secrets in the OS keyring (service `sophia`) or AWS Secrets Manager
(SOPHIA_SECRETS_BACKEND=aws), never in plain files."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import FormatOption, JsonOption, escape
from sophia_cli.cli.state import listing_json, state, wants_json
from sophia_cli.core.errors import InputError

if TYPE_CHECKING:
    from sophia_cli.core.env.secrets import SecretStore

app = typer.Typer(
    help=(
        "Store, read, list, delete and rotate secrets in the OS keyring (service `sophia`), "
        "or in AWS Secrets Manager with SOPHIA_SECRETS_BACKEND=aws. Settings read a secret "
        "from there when no env layer sets it."
    ),
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The variable name, e.g. JWT_SECRET.")]
_DURATION = re.compile(r"^(\d+)([smhd]?)$")


def _keyring(ctx: typer.Context) -> SecretStore:
    from sophia_cli.core.env.secrets import open_secret_store

    # A setting whose reference cannot be read yet must not stop the command that stores it.
    return open_secret_store(state(ctx).settings(require_references=False))


def _stored_line(store: SecretStore, name: str) -> str:
    if store.label == "the keyring":
        return f"stored {name} in the keyring ({escape(store.description)})"
    from sophia_cli.core.env.aws_refs import reference_to, secret_id

    return (
        f"stored {name} in {store.label} as {secret_id(name)} ({escape(store.description)}); "
        f"settings read it when unset, or as {name}={reference_to(name)}"
    )


def _read_value(name: str) -> str:
    """The new value: a hidden prompt on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        value: str = typer.prompt(f"{name}", hide_input=True, confirmation_prompt=True)
        return value
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise InputError(
            f"no value for {name} on stdin", hint=f"printf %s VALUE | sophia secrets set {name}"
        )
    return value


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `7d` or plain seconds."""
    match = _DURATION.match(text.strip())
    if not match:
        raise InputError(f"{text!r} is not a duration", hint="Use e.g. 30m, 24h or 7d.")
    unit = {"s": "seconds", "": "seconds", "m": "minutes", "h": "hours", "d": "days"}[
        match.group(2)
    ]
    return timedelta(**{unit: int(match.group(1))})


@app.command("set")
def set_command(ctx: typer.Context, name: NameArgument, json_output: JsonOption = False) -> None:
    """Store a secret (read from a hidden prompt, or from stdin; never from the command line).

    Example: printf %s "$TOKEN" | sophia secrets set SLACK_BOT_TOKEN
    """
    from sophia_cli.core.env.secrets import set_secret, validate_name

    keyring = _keyring(ctx)
    info = set_secret(keyring, name, _read_value(validate_name(name)))
    if wants_json(ctx, json_output):
        output.emit_json(info)
    else:
        output.say(_stored_line(keyring, name))


@app.command("get")
def get_command(
    ctx: typer.Context,
    name: NameArgument,
    reveal: Annotated[bool, typer.Option("--reveal", help="Print the value itself.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Show a secret, masked unless --reveal.

    Example: sophia secrets get JWT_SECRET --reveal
    """
    from sophia_cli.core.env.mask import mask_secret
    from sophia_cli.core.env.secrets import get_secret

    value = get_secret(_keyring(ctx), name)
    shown = value if reveal else mask_secret(value)
    if wants_json(ctx, json_output):
        output.emit_json({"name": name, "value": shown, "revealed": reveal})
    else:
        typer.echo(shown)


@app.command("list")
def list_command(
    ctx: typer.Context, json_output: JsonOption = False, fmt: FormatOption = None
) -> None:
    """List stored secrets by name (never values), with rotation expiries.

    Example: sophia secrets list
    """
    from sophia_cli.core.env.secrets import list_secrets

    infos = list_secrets(_keyring(ctx))
    if listing_json(ctx, json_output, fmt):
        output.emit_json(infos)
        return
    rows = [
        [
            i.name,
            i.updated_at.isoformat(timespec="seconds"),
            i.expires_at.isoformat(timespec="seconds") if i.expires_at else "",
        ]
        for i in infos
    ]
    output.stdout().print(output.table(None, ["name", "updated", "expires"], rows))


@app.command("delete")
def delete_command(
    ctx: typer.Context,
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Remove a secret (AWS: scheduled for deletion, restorable for 7 days).

    Example: sophia secrets delete OPENROUTER_API_KEY --yes
    """
    from sophia_cli.core.env.secrets import delete_secret, validate_name

    validate_name(name)
    if not yes and sys.stdin.isatty():
        typer.confirm(f"Delete {name}?", abort=True)
    store = _keyring(ctx)
    delete_secret(store, name)
    if wants_json(ctx, json_output):
        output.emit_json({"name": name, "deleted": True})
    else:
        from sophia_cli.store.aws_secrets import RECOVERY_DAYS

        aws = store.label != "the keyring"
        recoverable = f" (restorable for {RECOVERY_DAYS} days)" if aws else ""
        output.say(f"deleted {name}{recoverable}")


@app.command("rotate")
def rotate_command(
    ctx: typer.Context,
    name: NameArgument,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a random 86-character value.")
    ] = False,
    grace: Annotated[
        str, typer.Option("--grace", help="How long the previous value stays valid (e.g. 24h).")
    ] = "24h",
    json_output: JsonOption = False,
) -> None:
    """Store a new value and keep the old one as NAME_PREVIOUS for a grace period.

    For JWT_SECRET, the server keeps accepting tokens signed with JWT_SECRET_PREVIOUS until
    the grace period ends.

    Example: sophia secrets rotate JWT_SECRET --generate --grace 24h
    """
    import secrets as random_source

    from sophia_cli.core.env.secrets import rotate_secret, validate_name

    period = parse_duration(grace)
    validate_name(name)
    value = random_source.token_urlsafe(64) if generate else _read_value(name)
    rotation = rotate_secret(_keyring(ctx), name, value, grace=period)
    if wants_json(ctx, json_output):
        output.emit_json(rotation)
        return
    kept = (
        f"; previous value kept as {rotation.previous_name} until "
        f"{rotation.previous_expires_at.isoformat(timespec='seconds')}"
        if rotation.had_previous_value
        else ""
    )
    output.say(f"rotated {name}{kept}")
