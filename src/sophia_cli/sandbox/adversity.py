"""What the real APIs do to a sync that a still sandbox would never show.

- `churn_per_page`: records change *while* a sync pages through them. After every HubSpot
  search page and every Asana task page it serves, the sandbox modifies that many live
  records of the same type (a visible field and the modified date, stamped now), as users
  and workflows do.
- `hubspot_index_lag_s`: HubSpot's search index lags writes. A record written at t is
  searchable only from t + a lag drawn per write between 0 and this many seconds (a later
  write may become visible before an earlier one, which is how records get skipped).

- merges: `merge(kind)` folds one live contact or deal into another; the survivor lists it
  in `hs_merged_object_ids`, the merged one vanishes from every listing.
- association-only changes: `reassociate(count)` moves deals to another company without
  touching their modified date (HubSpot does not bump it for an association).

All are deterministic for a seed: which records change depends only on a counter.
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


def merge(ds: Dataset, adversities: Adversities, kind: str, now: datetime, serial: int) -> Any:
    """Merge one live record of `kind` into another; returns (survivor id, merged id)."""
    if kind not in ("contacts", "deals"):
        raise ValueError("only contacts and deals merge here (companies carry associations)")
    from sophia_cli.sandbox.mutate import MODIFIED_KEY

    records = ds.hubspot.objects[kind]
    live = sorted(i for i, r in records.items() if not r["archived"])
    survivor, gone = random.Random(f"merge:{ds.seed}:{kind}:{serial}").sample(live, 2)
    record = records[survivor]
    merged = [i for i in (record["properties"].get("hs_merged_object_ids") or "").split(";") if i]
    stamp = iso_ms(now)
    record["properties"]["hs_merged_object_ids"] = ";".join([*merged, gone])
    record["properties"][MODIFIED_KEY[kind]] = stamp
    record["updatedAt"] = stamp
    mark_written(adversities, record)
    ds.hubspot.merged.setdefault(kind, {})[gone] = records.pop(gone)
    return survivor, gone


def reassociate(ds: Dataset, count: int, serial: int) -> list[str]:
    """Move `count` live deals to another company; their modified dates stay as they were."""
    companies = sorted(i for i, c in ds.hubspot.objects["companies"].items() if not c["archived"])
    deals = ds.hubspot.objects["deals"]
    rng = random.Random(f"reassociate:{ds.seed}:{serial}")
    picked = rng.sample(sorted(i for i, d in deals.items() if not d["archived"]), count)
    for did in picked:
        deals[did]["_company"] = rng.choice(
            [c for c in companies if c != deals[did].get("_company")]
        )
    return picked


def churn_tasks(ds: Dataset, adversities: Adversities, now: datetime, page: int) -> list[str]:
    """Rename `churn_per_page` top-level Asana tasks now (modified_at moves); returns gids."""
    tasks = ds.asana.tasks
    rng = random.Random(f"churn:{ds.seed}:tasks:{page}")
    top = sorted(gid for gid, task in tasks.items() if not task.get("_parent"))
    picked = rng.sample(top, min(len(top), adversities.churn_per_page))
    for gid in picked:
        task = tasks[gid]
        task["name"] = task["name"].split(" [churn")[0] + f" [churn {page}]"
        task["modified_at"] = iso_ms(now)
        ds.asana.events.record("changed", task, task["modified_at"], "name")
    return picked
