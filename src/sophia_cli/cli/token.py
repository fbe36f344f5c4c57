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
    sub: Annotated[
        str, typer.Option("--sub", "--subject", help="Who the token is for, e.g. bridge.")
    ],
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope",
            "--scopes",
            help="Comma-separated: ask, query, sync, squad, admin (with --link default ask).",
        ),
    ] = None,
    ttl: Annotated[
        str | None,
        typer.Option("--ttl", help="Lifetime: 30s, 15m, 1h, 7d (default 1h; links 12h)."),
    ] = None,
    link: Annotated[
        bool,
        typer.Option(
            "--link", help="Print a sign-in link to the BI page (token in the URL fragment)."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Sign a token with JWT_SECRET and print it alone on stdout (or a sign-in link).

    Example: sophia token issue --sub bridge --scope ask,sync --ttl 1h
    Example: sophia token issue --link --sub dana --scope ask
    """
    from sophia_cli.core.auth import links
    from sophia_cli.core.auth.tokens import Scope, issue_token, parse_scopes, parse_ttl
    from sophia_cli.core.errors import UsageError

    config = settings(ctx)
    if scope is None and not link:
        raise UsageError("token issue needs --scope", hint="e.g. --scope ask,sync")
    scopes = parse_scopes(scope if scope is not None else Scope.ASK.value)
    seconds = parse_ttl(ttl) if ttl is not None else (links.link_ttl_s(config) if link else 3600)
    token = issue_token(config, sub, scopes, seconds)
    url = links.link_for(links.base_url(config), token) if link else None
    if wants_json(ctx, json_output):
        found = {"token": token, "sub": sub, "scopes": [s.value for s in scopes], "ttl_s": seconds}
        output.emit_json(found | ({"link": url} if url else {}))
        return
    sys.stdout.write((url or token) + "\n")


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
