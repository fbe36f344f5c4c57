"""The synthetic company: deterministic, realistic, and sized by scale."""

from __future__ import annotations

from datetime import date, timedelta

from sophia_cli.sandbox import expected
from sophia_cli.sandbox.clock import parse_iso
from sophia_cli.sandbox.dataset import build_dataset

TODAY = date(2026, 3, 31)


def _all_rows(ds: object) -> dict[str, list[dict[str, object]]]:
    return {t: expected.expected_rows(ds, t) for t in expected.TABLES}  # type: ignore[arg-type]


def test_same_seed_and_today_give_identical_data() -> None:
    first = build_dataset(seed=11, scale=0.1, today=TODAY)
    second = build_dataset(seed=11, scale=0.1, today=TODAY)
    assert _all_rows(first) == _all_rows(second)


def test_another_seed_gives_another_company() -> None:
    first = build_dataset(seed=11, scale=0.1, today=TODAY)
    other = build_dataset(seed=12, scale=0.1, today=TODAY)
    assert expected.hubspot_deals(first) != expected.hubspot_deals(other)


def test_scale_one_has_thousands_of_deals_and_scale_shrinks_everything() -> None:
    big = expected.counts(build_dataset(seed=7, scale=1.0, today=TODAY))["tables"]
    small = expected.counts(build_dataset(seed=7, scale=0.1, today=TODAY))["tables"]
    assert big["hubspot.deals"] >= 2500
    assert big["slack.messages"] > 3000
    for table in ("hubspot.deals", "hubspot.contacts", "asana.tasks", "gong.calls"):
        assert small[table] * 5 < big[table]


def test_realistic_names_are_used() -> None:
    ds = build_dataset(seed=7, scale=0.1, today=TODAY)
    owners = {(o["firstName"], o["lastName"]) for o in ds.hubspot.owners.values()}
    companies = {c["properties"]["name"] for c in ds.hubspot.objects["companies"].values()}
    assert ("Dana", "Lee") in owners
    assert "Acme Corp" in companies


def test_deals_span_two_years_and_last_quarter_has_won_deals() -> None:
    ds = build_dataset(seed=3, scale=0.1, today=TODAY)
    deals = expected.hubspot_deals(ds)
    created = [parse_iso(d["created_at"]) for d in deals]
    assert ds.anchor - min(created) > timedelta(days=600)
    quarter_start, quarter_end = date(2025, 10, 1), date(2025, 12, 31)
    won = [
        d
        for d in deals
        if d["is_won"] and quarter_start <= parse_iso(d["close_date"]).date() <= quarter_end
    ]
    assert won and all(d["amount"] > 0 for d in won)
    assert {d["pipeline"] for d in deals} == {"default", "enterprise"}
    assert any(not d["is_closed"] for d in deals)


def test_some_asana_tasks_are_overdue_and_some_completed() -> None:
    ds = build_dataset(seed=7, scale=0.1, today=TODAY)
    tasks = expected.asana_tasks(ds)
    overdue = [t for t in tasks if not t["completed"] and t["due_on"] < TODAY.isoformat()]
    assert overdue
    assert any(t["completed"] and t["completed_at"] for t in tasks)


def test_slack_has_threads_bots_deactivated_users_and_a_channel_the_bot_is_not_in() -> None:
    ds = build_dataset(seed=7, scale=0.1, today=TODAY)
    rows = expected.slack_messages(ds)
    assert any(r["reply_count"] > 0 for r in rows)
    assert any(r["thread_ts"] and r["thread_ts"] != r["ts"] for r in rows)
    users = expected.slack_users(ds)
    assert any(u["is_bot"] for u in users) and any(u["deleted"] for u in users)
    assert [c["name"] for c in ds.slack.channels.values() if not c["is_member"]] == ["watercooler"]


def test_gong_transcripts_mention_pricing_and_calls_have_external_parties() -> None:
    ds = build_dataset(seed=7, scale=0.1, today=TODAY)
    texts = " ".join(r["text"] for r in expected.gong_transcripts(ds)).lower()
    assert "price" in texts and "discount" in texts
    parties = expected.gong_call_participants(ds)
    assert {"Internal", "External"} <= {p["affiliation"] for p in parties}


def test_counts_equal_the_expected_rows() -> None:
    ds = build_dataset(seed=7, scale=0.1, today=TODAY)
    tables = expected.counts(ds)["tables"]
    assert tables == {t: len(expected.expected_rows(ds, t)) for t in expected.TABLES}


def test_bulk_import_scenario_puts_over_ten_thousand_contacts_on_one_timestamp() -> None:
    ds = build_dataset(seed=7, scale=0.1, today=TODAY, scenario="hubspot_bulk_import")
    stamps: dict[str, int] = {}
    for contact in ds.hubspot.objects["contacts"].values():
        stamp = contact["properties"]["lastmodifieddate"]
        stamps[stamp] = stamps.get(stamp, 0) + 1
    assert max(stamps.values()) > 10_000
