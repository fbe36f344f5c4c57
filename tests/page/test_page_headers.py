"""The page's HTTP side: served from the package with its security headers, no data in it."""

from __future__ import annotations

import httpx
import pytest
from page_helpers import PageServer

from sophia_cli.server.routes.page import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/", "/assets/app.js", "/assets/chart.js", "/assets/style.css"])
def test_the_page_and_its_assets_carry_the_security_headers(server: PageServer, path: str) -> None:
    response = httpx.get(server.url + path)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_page_is_served_without_a_token_and_holds_no_data(server: PageServer) -> None:
    html = httpx.get(server.url + "/").text
    assert '<label for="q">' in html
    assert "<script>" not in html  # every script is a file of this origin


def test_an_unknown_asset_is_a_404_in_the_error_shape(server: PageServer) -> None:
    response = httpx.get(server.url + "/assets/../pyproject.toml")
    assert response.status_code == 404
    assert "error" in response.json()


def test_the_whole_page_weighs_under_one_megabyte(server: PageServer) -> None:
    paths = ["/", "/assets/app.js", "/assets/chart.js", "/assets/style.css", "/assets/favicon.svg"]
    total = sum(len(httpx.get(server.url + path).content) for path in paths)
    assert total < 1_000_000


def test_an_unchanged_file_is_revalidated_with_an_empty_304(server: PageServer) -> None:
    first = httpx.get(server.url + "/assets/app.js")
    assert first.headers["cache-control"] == "no-cache"
    again = httpx.get(
        server.url + "/assets/app.js", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    stale = httpx.get(server.url + "/assets/app.js", headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200 and stale.content == first.content
