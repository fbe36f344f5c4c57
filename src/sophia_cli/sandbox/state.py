"""The live sandbox: the dataset plus the moving parts (clock, limits, faults, log, offsets)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sophia_cli.sandbox import expected
from sophia_cli.sandbox.adversity import Adversities, mark_written
from sophia_cli.sandbox.clock import SandboxClock
from sophia_cli.sandbox.dataset import Dataset, Scenario, build_dataset
from sophia_cli.sandbox.faults import FaultQueue, RequestLog
from sophia_cli.sandbox.ratelimit import Limit, RateLimiter, RateLimitMode


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
        adversities: Adversities | None = None,
    ) -> None:
        if gong_page_size < 1:
            raise ValueError("gong_page_size must be at least 1")
        self.lock = threading.RLock()
        self.today = today or datetime.now(UTC).date()
        self.data: Dataset = build_dataset(
            seed=seed, scale=scale, today=self.today, scenario=scenario
        )
        self.tokens = Tokens.for_seed(seed)
        self.clock = SandboxClock()
        self.limiter = RateLimiter(rate_limits, limit_overrides)
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
        self.search_offsets: list[int] = []  # the `after` of every HubSpot search, in order

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

    def late_reply(self, max_age_hours: float = 48.0) -> dict[str, Any]:
        """Add a late reply to an old thread."""
        from sophia_cli.sandbox.mutate import add_late_reply

        with self.lock:
            return add_late_reply(self.data, self.clock.now(), max_age_hours)

    def health(self) -> dict[str, Any]:
        """What this sandbox is."""
        return {
            "ok": True,
            "seed": self.data.seed,
            "scale": self.data.scale,
            "today": self.today.isoformat(),
            "scenario": self.data.scenario,
            "rate_limits": self.limiter.mode,
            "mutations": self.data.mutations,
            "churn_per_page": self.adversities.churn_per_page,
            "hubspot_index_lag_s": self.adversities.hubspot_index_lag_s,
        }
