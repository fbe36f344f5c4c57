"""What the real APIs do to a sync that a still sandbox would never show.

- `churn_per_page`: records change *while* a sync pages through them. After every HubSpot
  search page it serves, the sandbox modifies that many live records of the same type
  (a visible property and the modified date, stamped now), as users and workflows do.
- `hubspot_index_lag_s`: HubSpot's search index lags writes. A record written at t is
  searchable only from t + a lag drawn per write between 0 and this many seconds (a later
  write may become visible before an earlier one, which is how records get skipped).

Both are deterministic for a seed: which records churn depends only on the page count.
"""

from __future__ import annotations

import random
import time
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sophia_cli.sandbox.clock import iso_ms
from sophia_cli.sandbox.dataset import Dataset, Record

INDEXED_AT = "_indexed_at"  # wall-clock seconds from which search sees the record


@dataclass(frozen=True)
class Adversities:
    """The sandbox's options for what changes under a running sync (all off by default)."""

    churn_per_page: int = 0
    hubspot_index_lag_s: float = 0.0

    def __post_init__(self) -> None:
        if self.churn_per_page < 0:
            raise ValueError("churn_per_page must be 0 or more")
        if self.hubspot_index_lag_s < 0:
            raise ValueError("hubspot_index_lag_s must be 0 or more")


def write_lag_s(adversities: Adversities, record_id: str, stamp: str) -> float:
    """This write's index lag: a fixed fraction (per id and stamp) of the maximum."""
    fraction = zlib.crc32(f"{record_id}:{stamp}".encode()) % 1000 / 1000
    return adversities.hubspot_index_lag_s * fraction


def mark_written(adversities: Adversities, record: Record) -> None:
    """Record when search will see this write of `record`."""
    if adversities.hubspot_index_lag_s > 0:
        lag = write_lag_s(adversities, str(record["id"]), str(record["updatedAt"]))
        record[INDEXED_AT] = time.time() + lag


def searchable(record: Record) -> bool:
    """Whether the index has caught up with the record's last write."""
    return float(record.get(INDEXED_AT, 0.0)) <= time.time()


def churn(ds: Dataset, adversities: Adversities, kind: str, now: datetime, page: int) -> list[str]:
    """Modify `churn_per_page` live records of `kind` now; returns their ids."""
    from sophia_cli.sandbox.mutate import MODIFIED_KEY, update_crm

    records = ds.hubspot.objects[kind]
    live = sorted(i for i, r in records.items() if not r["archived"])
    rng = random.Random(f"churn:{ds.seed}:{kind}:{page}")
    picked = rng.sample(live, min(len(live), adversities.churn_per_page))
    stamp = iso_ms(now)
    for rid in picked:
        record: dict[str, Any] = records[rid]
        update_crm(kind, record, rng, now)
        record["updatedAt"] = stamp
        record["properties"][MODIFIED_KEY[kind]] = stamp
        mark_written(adversities, record)
    return picked
