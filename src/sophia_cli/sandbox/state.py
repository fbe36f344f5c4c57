"""The live sandbox: the dataset plus the moving parts (clock, limits, faults, log, offsets)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sophia_cli.sandbox import expected
from sophia_cli.sandbox.adversity import Adversities, mark_written
from sophia_cli.sandbox.clock import SandboxClock
from sophia_cli.sandbox.dataset import Dataset, Scenario, build_dataset
from sophia_cli.sandbox.faults import FaultQueue, RequestLog
from sophia_cli.sandbox.ratelimit import (
    LIMITED_PAGE,
    SLACK_MINUTE_S,
    Limit,
    RateLimiter,
    RateLimitMode,
    SlackRegime,
    slack_overrides,
)


@dataclass(frozen=True)
class Tokens:
    """The credentials the fakes accept; anything else is refused like the real API does."""

    slack: str
    asana: str
    hubspot: str
    gong_key: str
    gong_secret: str

    @classmethod
    def for_seed(cls, seed: int) -> Tokens:
        """Tokens that differ per seed, so two sandboxes never cross-accept."""
        return cls(
            slack=f"xoxb-sandbox-{seed}-7391025468-brightline",
            asana=f"2/1200000000000001/1209{seed:06d}:sandbox{seed}asanapat",
            hubspot=f"pat-na1-sandbox-{seed:04d}-4b1d-9c2e-hubspotkey",
            gong_key=f"sandbox{seed}GONGKEY",
            gong_secret=f"sandbox{seed}gongsecretvalue",
        )


class Sandbox:
    """One synthetic company behind four fake APIs; every method is safe across threads."""

    def __init__(
        self,
        *,
        seed: int = 7,
        scale: float = 1.0,
        today: date | None = None,
        scenario: Scenario = "default",
        rate_limits: RateLimitMode = "off",
        gong_page_size: int = 100,
        limit_overrides: dict[str, Limit] | None = None,
        slack_regime: SlackRegime = "internal",
        slack_minute_s: float = SLACK_MINUTE_S,
        adversities: Adversities | None = None,
        asana_events_page: int = 100,
        slack_external_users: int = 0,
    ) -> None:
        if gong_page_size < 1:
            raise ValueError("gong_page_size must be at least 1")
        if not 1 <= asana_events_page <= 100:
            raise ValueError("asana_events_page must be between 1 and 100")
        self.lock = threading.RLock()
        self.today = today or datetime.now(UTC).date()
        self.data: Dataset = build_dataset(
            seed=seed, scale=scale, today=self.today, scenario=scenario
        )
        self.data.asana.events.page = asana_events_page
        if slack_external_users:  # Slack Connect guests, never in the demo's data
            from sophia_cli.sandbox.data_slack import add_external_users

            add_external_users(self.data.slack, self.data.anchor, slack_external_users)
        self.tokens = Tokens.for_seed(seed)
        self.clock = SandboxClock()
        # Slack's clock may be compressed: one Slack minute lasts `slack_minute_s` here, and
        # Retry-After is stated in Slack seconds, so tests of a 1/min regime stay fast.
        self.slack_regime: SlackRegime = slack_regime
        self.slack_minute_s = slack_minute_s
        overrides = {**slack_overrides(rate_limits, slack_regime, slack_minute_s)}
        self.limiter = RateLimiter(rate_limits, {**overrides, **(limit_overrides or {})})
        self.faults = FaultQueue()
        self.log = RequestLog()
        self.gong_page_size = gong_page_size
        # Asana offsets are server-issued; each remembers the listing it belongs to and the
        # generation it was issued in. A mutation bumps the generation and expires them all.
        self.asana_offsets: dict[str, tuple[str, str, int]] = {}
        self.offset_generation = 0
        self.serial = 0
        self.adversities = adversities or Adversities()
        self.search_pages = 0  # HubSpot search pages served (numbers the churn)
        self.task_pages = 0  # Asana task pages served under churn
        self.search_offsets: list[int] = []  # the `after` of every HubSpot search, in order

    def slack_seconds(self, real_s: float) -> int:
        """A wait on this sandbox's clock as whole Slack seconds (Retry-After), at least 1."""
        return max(1, math.ceil(real_s * SLACK_MINUTE_S / self.slack_minute_s))

    def slack_page_cap(self) -> int | None:
        """The most messages one history or replies request may return in this regime."""
        return LIMITED_PAGE if self.slack_regime == "limited" else None

    def next_serial(self) -> int:
        """A counter for request ids and opaque tokens."""
        with self.lock:
            self.serial += 1
            return self.serial

    def counts(self) -> dict[str, Any]:
        """Expected rows per table now."""
        with self.lock:
            return expected.counts(self.data)

    def expected(self, table: str) -> list[dict[str, Any]]:
        """Expected rows of one table now."""
        if table not in expected.TABLES:
            raise KeyError(table)
        with self.lock:
            return expected.expected_rows(self.data, table)

    def mutate(self) -> dict[str, Any]:
        """Apply one mutation; outstanding Asana offsets expire."""
        from sophia_cli.sandbox.mutate import apply_mutation

        with self.lock:
            self.offset_generation += 1
            self.asana_offsets.clear()
            result = apply_mutation(self.data, self.clock.now())
            for kind, records in self.data.hubspot.objects.items():
                changed = result["changes"][f"hubspot.{kind}"].values()
                for rid in {rid for ids in changed for rid in ids}:
                    mark_written(self.adversities, records[rid])
            return result

    def touch(self, kind: str, count: int) -> list[str]:
        """Modify `count` live HubSpot records of `kind` now (as churn does mid-sync)."""
        from sophia_cli.sandbox.adversity import Adversities, churn

        with self.lock:
            self.serial += 1
            changes = Adversities(count, self.adversities.hubspot_index_lag_s)
            return churn(self.data, changes, kind, self.clock.now(), -self.serial)

    def merge(self, kind: str) -> tuple[str, str]:
        """Merge two live HubSpot records of `kind`: (survivor id, merged id)."""
        from sophia_cli.sandbox.adversity import merge

        with self.lock:
            self.serial += 1
            result: tuple[str, str] = merge(
                self.data, self.adversities, kind, self.clock.now(), self.serial
            )
            return result

    def reassociate(self, count: int) -> list[str]:
        """Move `count` deals to another company without changing their modified date."""
        from sophia_cli.sandbox.adversity import reassociate

        with self.lock:
            self.serial += 1
            return reassociate(self.data, count, self.serial)

    def delete_calls(self, ids: list[str]) -> list[str]:
        """Delete these Gong calls: the API stops returning them and their transcripts."""
        with self.lock:
            gong = self.data.gong
            gone = [cid for cid in ids if cid in gong.calls]
            for cid in gone:
                del gong.calls[cid]
                gong.transcripts.pop(cid, None)
                gong.transcript_wait.pop(cid, None)
                gong.call_wait.pop(cid, None)
            self.data.deleted.setdefault("gong.calls", []).extend(gone)
            return gone

    def late_reply(self, max_age_hours: float = 48.0) -> dict[str, Any]:
        """Add a late reply to an old thread."""
        from sophia_cli.sandbox.mutate import add_late_reply

        with self.lock:
            return add_late_reply(self.data, self.clock.now(), max_age_hours)

    def change_thread(self, kind: str) -> dict[str, Any]:
        """Edit or delete a reply, or delete a parent (see mutate.change_thread)."""
        from sophia_cli.sandbox.mutate import change_thread

        with self.lock:
            return change_thread(self.data, self.clock.now(), kind)

    def change_asana(self, kind: str) -> dict[str, Any]:
        """Delete a task, or edit or delete a subtask (see mutate.change_asana)."""
        from sophia_cli.sandbox.mutate import change_asana

        with self.lock:
            return change_asana(self.data, self.clock.now(), kind)

    def expire_asana_tokens(self) -> int:
        """Make every Asana sync token issued so far too old (the next read is a 412)."""
        return self.data.asana.events.expire_all()

    def health(self) -> dict[str, Any]:
        """What this sandbox is."""
        return {
            "ok": True,
            "seed": self.data.seed,
            "scale": self.data.scale,
            "today": self.today.isoformat(),
            "scenario": self.data.scenario,
            "rate_limits": self.limiter.mode,
            "slack_regime": self.slack_regime,
            "slack_minute_s": self.slack_minute_s,
            "mutations": self.data.mutations,
            "churn_per_page": self.adversities.churn_per_page,
            "hubspot_index_lag_s": self.adversities.hubspot_index_lag_s,
        }
