"""Signing in with a link: the token rides in the URL fragment, moves to session storage,
and leaves the address bar; without one the page says how to get a link."""

from __future__ import annotations

from collections.abc import Callable

from page_helpers import PageServer, Visit


def test_without_a_token_the_page_explains_how_to_get_a_link(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.url + "/", wait_ready=False)
    page = seen.page
    page.wait_for_selector("#signin:not([hidden])")
    assert "sophia token issue" in page.inner_text("#signin")
    assert "--link" in page.inner_text("#signin")
    assert page.is_hidden("#app")


def test_a_sign_in_link_keeps_the_token_in_session_storage_and_clears_the_address_bar(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    token = server.token("ask", sub="dana")
    seen = visit(server.link(token))
    page = seen.page
    assert "#token" not in page.url
    assert page.evaluate("sessionStorage.getItem('sophia.token')") == token
    assert "Signed in as dana (ask) until " in page.inner_text("#who")  # the link's expiry
    page.reload()  # still signed in: the tab's session storage kept it
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#q")


def test_an_invalid_token_sends_the_user_back_to_sign_in(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link("not-a-token"), wait_ready=False)
    page = seen.page
    page.wait_for_selector("#signin:not([hidden])")
    assert "expired or is not valid" in page.inner_text("#signin-reason")
    assert page.evaluate("sessionStorage.getItem('sophia.token')") is None


def test_the_link_sophia_serve_prints_signs_the_operator_in_as_admin(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    printed = [line for line in server.log.read_text().splitlines() if "#token=" in line]
    assert len(printed) == 1, server.log.read_text()[-1000:]
    link = printed[0].removeprefix("Open ").strip()
    assert link.startswith(server.url + "/#token=")
    seen = visit(link)
    page = seen.page
    assert page.url == server.url + "/"
    assert "(admin)" in page.inner_text("#who")
    assert page.is_visible("#admin")
