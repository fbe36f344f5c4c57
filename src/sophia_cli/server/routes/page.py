"""The BI page: `GET /` and its few static files, shipped inside the package.

The page holds no data and no secrets: every answer comes from the JSON routes with the
bearer token the page keeps in session storage. The headers below are what makes it safe by
construction: scripts and styles only from this origin (no inline script can run even if a
warehouse value were ever rendered as markup), no third-party requests, no framing.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from sophia_cli.core.errors import NotFoundError

router = APIRouter(tags=["page"], include_in_schema=False)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# The only files served: a fixed list, so no request path ever reaches the file system.
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "chart.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


@cache
def _read(name: str) -> bytes:
    """One file of the page, read once per process (they ship inside the package)."""
    return resources.files("sophia_cli.server.page").joinpath(name).read_bytes()


def _respond(name: str, media_type: str, cache_control: str) -> Response:
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control}
    return Response(_read(name), media_type=media_type, headers=headers)


@router.get("/")
async def page() -> Response:
    """The page itself; `/?q=QUESTION` asks QUESTION as soon as it loads."""
    # no-cache: a new release's page is picked up at once (assets are revalidated too).
    return _respond("index.html", "text/html; charset=utf-8", "no-cache")


@router.get("/assets/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFoundError(f"no asset {name!r}", hint="Open / for the page.")
    return _respond(name, ASSETS[name], "no-cache")
