"""The one reader of store URLs for output: where a URL points, never who it logs in as.

Every message, status line and check that names a DATABASE_URL, REDIS_URL or similar goes
through `describe`, `mask` or `scrub`. A URL that does not parse (an unencoded `@`, `/` or
space in the password, a bad `%` escape) is still shown, without its user-info, and
`problem` says what is wrong with it so `env check` and the stores can refuse it in words
that repeat none of it.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, unquote, urlsplit

MASK = "•••"
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_CONNINFO_PAIR = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)")


def is_url(value: str) -> bool:
    return "://" in value


def problem(url: str) -> str | None:
    """What makes `url` unusable as written, in words that repeat none of it; or None."""
    if not is_url(url):
        return None
    if any(char.isspace() for char in url.strip()):
        return "it contains a space (percent-encode it as %20)"
    if _BAD_ESCAPE.search(url):
        return "it has a `%` that is not followed by two hex digits (encode `%` as %25)"
    rest = url.split("://", 1)[1]
    authority_end = min((rest.find(c) for c in "/?#" if c in rest), default=len(rest))
    if rest.count("@", 0, authority_end) > 1:
        return "its user-info has an unencoded `@` (percent-encode it as %40)"
    if "@" in rest[authority_end:] and "@" not in rest[:authority_end]:
        return "its user-info has an unencoded `/`, `?` or `#` (percent-encode them)"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "its host or port does not parse (a port must be a number)"
    return None


def _split(url: str) -> SplitResult | None:
    if problem(url) is not None:
        return None
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _host_after_credentials(url: str) -> str:
    """The part of an unparseable URL after its last `@` (or `//`), up to the path."""
    rest = url.split("://", 1)[1] if is_url(url) else url
    tail = rest.rsplit("@", 1)[-1]
    host = re.split(r"[/?#\s]", tail, maxsplit=1)[0]
    return host or "?"


def describe(url: str) -> str:
    """Where a URL or libpq conninfo points: `host:port/dbname`, `socket PATH`, no secrets."""
    if not is_url(url):
        pairs = dict(_CONNINFO_PAIR.findall(url))
        host = pairs.get("host", "localhost").strip("'")
        if host.startswith("/"):
            return f"socket {host}/{pairs.get('dbname', '').strip(chr(39))}"
        return f"{host}:{pairs.get('port', '5432')}/{pairs.get('dbname', '').strip(chr(39))}"
    parts = _split(url)
    if parts is None:
        return f"{_host_after_credentials(url)} (malformed URL)"
    if parts.scheme == "unix":
        return f"socket {parts.path}"
    path = parts.path.lstrip("/")
    port = f":{parts.port}" if parts.port else ""
    where = f"{parts.hostname or 'localhost'}{port}"
    return f"{where}/{path}" if path else where


def mask(url: str) -> str:
    """A URL as `scheme://•••@host:port/•••`: where it points, nothing that logs in."""
    if not is_url(url):
        return MASK
    scheme = url.split("://", 1)[0]
    parts = _split(url)
    if parts is None:
        return f"{scheme}://{MASK}@{_host_after_credentials(url)}/{MASK}"
    try:
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    if not host:
        return MASK
    credentials = f"{MASK}@" if parts.username or parts.password else ""
    tail = f"/{MASK}" if parts.path.strip("/") else ""
    return f"{scheme}://{credentials}{host}{port}{tail}"


def _secrets_in(url: str) -> list[str]:
    """Substrings of `url` that may reveal a credential, longest first."""
    if not is_url(url):
        found = [v.strip("'") for k, v in _CONNINFO_PAIR.findall(url) if k == "password"]
        return sorted((s for s in found if s), key=len, reverse=True)
    rest = url.split("://", 1)[1]
    userinfo = rest.rsplit("@", 1)[0] if "@" in rest else ""
    pieces = {userinfo, unquote(userinfo)}
    for chunk in re.split(r"[:@/\s]", userinfo):
        pieces.update({chunk, unquote(chunk)})
    # A driver that split at the first `@` shows the rest of the password as the host.
    pieces.update(f"{chunk}@" for chunk in userinfo.split("@")[1:] if chunk)
    return sorted((p for p in pieces if len(p) >= 2), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """`text` (e.g. a driver's error message) with every part of `url`'s user-info masked."""
    for secret in _secrets_in(url):
        text = text.replace(secret, MASK)
    return text
