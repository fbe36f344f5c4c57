"""The operations panels: sync status per source, the budget and spend by day, for admins only."""

from __future__ import annotations

from collections.abc import Callable

from page_helpers import PageServer, Visit


def test_an_admin_sees_sync_status_per_source_and_the_budget_and_spend(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("admin", sub="ops")))
    page = seen.page
    assert page.is_visible("#admin")
    sources = page.locator("#sync-status tbody tr td:first-child").all_inner_texts()
    assert {"hubspot", "asana", "gong", "slack"} <= set(sources)
    first_row = page.locator("#sync-status tbody tr").first.locator("td").all_inner_texts()
    assert first_row[1] != "never" and int(first_row[2].replace(",", "")) > 0
    assert "spent of $" in page.inner_text("#budget")
    assert page.locator("#spend tbody tr").count() >= 1


def test_a_token_without_admin_sees_no_operations_panel_and_asks_for_none(
    visit: Callable[..., Visit], server: PageServer
) -> None:
    seen = visit(server.link(server.token("ask")))
    assert seen.page.is_hidden("#admin")
    assert not any("/v1/squad/" in url or "/v1/sync/" in url for url in seen.requests)
