"""`sophia token`: issue and inspect API bearer tokens for `sophia serve`."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from sophia_cli.cli import output
from sophia_cli.cli.output import JsonOption
from sophia_cli.cli.state import settings, wants_json

app = typer.Typer(help="Issue and inspect API bearer tokens (JWT, HS256).", no_args_is_help=True)


@app.command("issue")
def issue(
    ctx: typer.Context,
    sub: Annotated[str, typer.Option("--sub", help="Who the token is for, e.g. bridge.")],
    scope: Annotated[
        str, typer.Option("--scope", help="Comma-separated: ask, query, sync, squad, admin.")
    ],
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 30s, 15m, 1h, 7d.")] = "1h",
    json_output: JsonOption = False,
) -> None:
    """Sign a token with JWT_SECRET and print it alone on stdout.

    Example: sophia token issue --sub bridge --scope ask,sync --ttl 1h
    """
    from sophia_cli.core.auth.tokens import issue_token, parse_scopes, parse_ttl

    scopes, seconds = parse_scopes(scope), parse_ttl(ttl)
    token = issue_token(settings(ctx), sub, scopes, seconds)
    if wants_json(ctx, json_output):
        output.emit_json(
            {"token": token, "sub": sub, "scopes": [s.value for s in scopes], "ttl_s": seconds}
        )
        return
    sys.stdout.write(token + "\n")


@app.command("verify")
def verify(
    ctx: typer.Context,
    token: Annotated[str, typer.Argument(help="The token to check (as sent after `Bearer`).")],
    json_output: JsonOption = False,
) -> None:
    """Check a token as the server would and show its subject, scopes and expiry.

    Example: sophia token verify "$TOKEN" --json
    """
    from sophia_cli.core.auth.tokens import verify_token

    claims = verify_token(settings(ctx), token)
    if wants_json(ctx, json_output):
        output.emit_json(claims)
        return
    expires = dt.datetime.fromtimestamp(claims.expires_at, tz=dt.UTC).isoformat()
    typer.echo(
        f"sub {claims.sub}  scopes {','.join(s.value for s in claims.scopes)}  "
        f"expires {expires}  kid {claims.kid}"
    )
