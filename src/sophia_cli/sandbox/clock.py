"""Time helpers shared by the fakes: ISO formats of each API and a strictly increasing clock."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta


def anchor_for(today: date) -> datetime:
    """The dataset's anchor instant: `today` at 00:00 UTC; generated history ends there."""
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def iso_ms(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z, as HubSpot and Asana write it."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def iso_s(moment: datetime) -> str:
    """ISO-8601 UTC to the second with Z, as Gong writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch (HubSpot's datetime filter unit)."""
    return int(round(moment.timestamp() * 1000))


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (Z or offset); naive values are taken as UTC."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def slack_ts(moment: datetime, serial: int) -> str:
    """A Slack message ts: epoch seconds, a dot, six digits that keep it unique."""
    return f"{int(moment.timestamp())}.{serial % 1_000_000:06d}"


def ts_moment(ts: str) -> datetime:
    """The instant of a Slack ts."""
    return datetime.fromtimestamp(float(ts), tz=UTC)


class SandboxClock:
    """Wall-clock time, truncated to the millisecond and strictly increasing across calls.

    Mutations stamp records with it, so a later mutation is always later than an earlier one
    and later than any sync that already ran (bookmarks never move past a run's start).
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The next instant, at least 1 ms after the previous one."""
        with self._lock:
            ms = max(int(time.time() * 1000), self._last + 1)
            self._last = ms
        return datetime.fromtimestamp(ms / 1000, tz=UTC)


def days_ago(anchor: datetime, days: float) -> datetime:
    """`days` before the anchor, to the millisecond."""
    moment = anchor - timedelta(days=days)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
