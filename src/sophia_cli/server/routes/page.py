"""The BI page: `GET /` and its few static files, shipped inside the package.

The page holds no data and no secrets: every answer comes from the JSON routes with the
bearer token the page keeps in session storage. The headers below are what makes it safe by
construction: scripts and styles only from this origin (no inline script can run even if a
warehouse value were ever rendered as markup), no third-party requests, no framing.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
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
def _read(name: str) -> tuple[bytes, str]:
    """One file of the page and its ETag, read once per process (they ship in the package)."""
    body = resources.files("sophia_cli.server.page").joinpath(name).read_bytes()
    # Weak: the same file goes out gzipped or not, and both are the same content.
    return body, 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _respond(request: Request, name: str, media_type: str) -> Response:
    body, etag = _read(name)
    # no-cache + ETag: the browser revalidates every load (a new release shows at once) and
    # gets an empty 304 when nothing changed.
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache", "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/")
async def page(request: Request) -> Response:
    """The page itself; `/?q=QUESTION` asks QUESTION as soon as it loads."""
    return _respond(request, "index.html", "text/html; charset=utf-8")


@router.get("/assets/{name}")
async def asset(request: Request, name: str) -> Response:
    if name not in ASSETS:
        raise NotFoundError(f"no asset {name!r}", hint="Open / for the page.")
    return _respond(request, name, ASSETS[name])
