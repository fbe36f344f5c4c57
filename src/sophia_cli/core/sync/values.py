"""Converting API values (strings, epoch seconds, ISO with offsets) to warehouse types."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 string (any offset, `Z` allowed) as an aware UTC datetime."""
    if value in (None, ""):
        return None
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    return date.fromisoformat(str(value)[:10])


def from_epoch(value: Any) -> datetime | None:
    """Epoch seconds (int, float or a Slack `ts` string) as a UTC datetime."""
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(float(value), tz=UTC)


def to_epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def iso(value: datetime) -> str:
    """UTC ISO-8601 with a `Z`, the form every API here accepts."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def parse_decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def parse_bool(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"
