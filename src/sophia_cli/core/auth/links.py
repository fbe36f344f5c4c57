"""Sign-in links to the BI page: `http://127.0.0.1:8000/#token=<jwt>`.

The token rides in the URL fragment, which browsers never send to the server, so it cannot
reach the server's access log or a proxy's; the page moves it to session storage and sends
it as the bearer token. There is no password database: whoever can run `sophia` with the
JWT secret hands out links.
"""

from __future__ import annotations

import getpass
from urllib.parse import urlsplit

from sophia_cli.core.auth.tokens import Scope, issue_token
from sophia_cli.core.errors import ConfigError
from sophia_cli.core.settings import Settings

FRAGMENT = "#token="
_ANY_INTERFACE = {"", "0.0.0.0", "::"}


def base_url(settings: Settings, host: str = "127.0.0.1", port: int | None = None) -> str:
    """SOPHIA_PUBLIC_URL, else the address the server listens on (loopback for 0.0.0.0)."""
    if settings.sophia_public_url:
        url = settings.sophia_public_url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"SOPHIA_PUBLIC_URL {url[:80]!r} is not an http(s) URL",
                hint="Set it to the page's address, e.g. https://bi.example.com.",
            )
        return url
    host = "127.0.0.1" if host in _ANY_INTERFACE else host
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port or settings.sophia_port}"


def link_for(base: str, token: str) -> str:
    """The page's address carrying `token` in its fragment."""
    return f"{base}/{FRAGMENT}{token}"


def link_ttl_s(settings: Settings) -> int:
    """SOPHIA_LINK_TTL_HOURS in seconds."""
    seconds = int(settings.sophia_link_ttl_hours * 3600)
    if seconds <= 0:
        raise ConfigError(
            "SOPHIA_LINK_TTL_HOURS must be more than 0",
            hint="Set it to the hours a sign-in link stays valid, e.g. 12.",
        )
    return seconds


def operator() -> str:
    """The subject of the local operator's link: the user running `sophia serve`."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in a bare container
        return "operator"


def operator_link(settings: Settings, host: str, port: int, ttl_s: int | None = None) -> str:
    """A sign-in link with a short-lived admin token for whoever started the server."""
    seconds = ttl_s if ttl_s is not None else link_ttl_s(settings)
    token = issue_token(settings, operator(), [Scope.ADMIN], seconds)
    return link_for(base_url(settings, host, port), token)
