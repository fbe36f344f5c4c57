"""Background job records in Redis, so any replica can answer "how is run X doing?"."""

from __future__ import annotations

import json
from typing import Any

from sophia_cli.core.settings import Settings
from sophia_cli.store import redis

JOB_TTL_S = 7 * 86400


def _key(settings: Settings, kind: str, job_id: str) -> str:
    return redis.key(settings, "jobs", kind, job_id)


def save_job(settings: Settings, kind: str, job_id: str, record: dict[str, Any]) -> None:
    """Write (or overwrite) a job's record; it expires after a week."""
    client = redis.client(settings)
    try:
        client.set(_key(settings, kind, job_id), json.dumps(record, default=str), ex=JOB_TTL_S)
    finally:
        client.close()


def load_job(settings: Settings, kind: str, job_id: str) -> dict[str, Any] | None:
    """A job's record, or None when unknown or expired."""
    client = redis.client(settings)
    try:
        raw = client.get(_key(settings, kind, job_id))
    finally:
        client.close()
    if raw is None:
        return None
    record: dict[str, Any] = json.loads(raw)
    return record
