"""Secrets in the keyring or AWS Secrets Manager: set, get, list, delete and rotate with a
grace period.

The keyring cannot list its entries, so an index entry (names and timestamps, no values)
is kept next to the secrets; AWS Secrets Manager lists its own (expiries are tags there).
Rotation moves the current value to NAME_PREVIOUS with an
expiry; until then both are readable (JWT_SECRET_PREVIOUS is what the server verifies with).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel

from sophia_cli.core.errors import InputError, NotFoundError
from sophia_cli.core.settings import PLACEHOLDER, Settings

if TYPE_CHECKING:
    from sophia_cli.store.aws_secrets import StoredEntry

INDEX_NAME = "__sophia_index__"
PREVIOUS_SUFFIX = "_PREVIOUS"
DEFAULT_GRACE = timedelta(hours=24)
_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class SecretStore(Protocol):
    """Where `sophia secrets` keeps values: the keyring or AWS Secrets Manager."""

    label: str  # "the keyring", "AWS Secrets Manager"
    description: str  # which one exactly (backend, file, region and endpoint)

    def get(self, name: str) -> str | None: ...
    def set(self, name: str, value: str) -> None: ...
    def delete(self, name: str) -> bool: ...


@runtime_checkable
class ListingStore(SecretStore, Protocol):
    """A store that lists its own entries, so no index entry is kept in it."""

    def entries(self) -> list[StoredEntry]: ...
    def set_expiry(self, name: str, expires_at: datetime) -> None: ...


def open_secret_store(settings: Settings) -> SecretStore:
    """The store SOPHIA_SECRETS_BACKEND selects (the keyring by default)."""
    if settings.sophia_secrets_backend == "aws":
        from sophia_cli.store.aws_secrets import AwsSecretStore

        return AwsSecretStore()
    from sophia_cli.store.keyring import open_keyring

    return open_keyring(settings)


class SecretInfo(BaseModel):
    """What the index knows about one stored secret (never its value)."""

    name: str
    updated_at: datetime
    expires_at: datetime | None = None


class Rotation(BaseModel):
    """The result of a rotation: where the old value went and until when it is valid."""

    name: str
    previous_name: str
    previous_expires_at: datetime
    had_previous_value: bool


def validate_name(name: str) -> str:
    """An environment-variable-style name, or InputError."""
    if not _NAME.match(name):
        raise InputError(
            f"{name!r} is not a valid secret name",
            hint="Use the variable's name in capitals, e.g. JWT_SECRET or SLACK_BOT_TOKEN.",
        )
    return name


def set_secret(
    store: SecretStore, name: str, value: str, *, now: datetime | None = None
) -> SecretInfo:
    """Store a secret under `name`, replacing any previous value."""
    validate_name(name)
    if not value.strip() or value.strip() == PLACEHOLDER:
        raise InputError(f"refusing to store an empty or placeholder value for {name}")
    store.set(name, value)
    return _record(store, SecretInfo(name=name, updated_at=now or _now()))


def set_secrets(
    store: SecretStore, values: dict[str, str], *, now: datetime | None = None
) -> list[SecretInfo]:
    """Store several secrets with one index update (each store write can be slow)."""
    moment = now or _now()
    for name, value in values.items():
        validate_name(name)
        if not value.strip() or value.strip() == PLACEHOLDER:
            raise InputError(f"refusing to store an empty or placeholder value for {name}")
    index = _read_index(store)
    for name, value in values.items():
        store.set(name, value)
        index[name] = SecretInfo(name=name, updated_at=moment)
    _write_index(store, index)
    return [index[name] for name in values]


def get_secret(store: SecretStore, name: str, *, now: datetime | None = None) -> str:
    """The value of `name`; NotFoundError when absent or expired."""
    validate_name(name)
    if isinstance(store, ListingStore):
        # Read it directly: a listing may lag a write by seconds (AWS lists eventually).
        info = _read_index(store).get(name)
        expired = (
            info is not None and info.expires_at is not None and info.expires_at <= (now or _now())
        )
        value = None if expired else store.get(name)
    else:
        value = read_values(store, [name], now=now).get(name)
    if value is None:
        raise NotFoundError(
            f"no secret named {name} in {store.label}", hint="See `sophia secrets list`."
        )
    return value


def list_secrets(store: SecretStore, *, now: datetime | None = None) -> list[SecretInfo]:
    """Every stored secret, by name; expired previous values are purged first."""
    _purge_expired(store, now or _now())
    return sorted(_read_index(store).values(), key=lambda info: info.name)


def delete_secret(store: SecretStore, name: str) -> None:
    """Remove `name` from the keyring; NotFoundError when it was not stored."""
    validate_name(name)
    index = _read_index(store)
    removed = store.delete(name)
    if name not in index and not removed:
        raise NotFoundError(f"no secret named {name} in {store.label}")
    index.pop(name, None)
    _write_index(store, index)


def rotate_secret(
    store: SecretStore,
    name: str,
    new_value: str,
    *,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
) -> Rotation:
    """Store `new_value` and keep the old one as NAME_PREVIOUS until the grace period ends."""
    validate_name(name)
    moment = now or _now()
    old = store.get(name)
    if old is not None and old == new_value:
        raise InputError(f"the new value of {name} is the same as the current one")
    previous = name + PREVIOUS_SUFFIX
    expires = moment + grace
    if old is not None:
        store.set(previous, old)
        _record(store, SecretInfo(name=previous, updated_at=moment, expires_at=expires))
    set_secret(store, name, new_value, now=moment)
    return Rotation(
        name=name,
        previous_name=previous,
        previous_expires_at=expires,
        had_previous_value=old is not None,
    )


def read_values(
    store: SecretStore, names: list[str], *, now: datetime | None = None
) -> dict[str, str]:
    """Values of those `names` that are stored and not expired (one index read)."""
    index = _read_index(store)
    moment = now or _now()
    values: dict[str, str] = {}
    for name in names:
        info = index.get(name)
        if info is None:
            continue
        if info.expires_at is not None and info.expires_at <= moment:
            _purge_expired(store, moment)
            continue
        value = store.get(name)
        if value is not None:
            values[name] = value
    return values


def _record(store: SecretStore, info: SecretInfo) -> SecretInfo:
    if isinstance(store, ListingStore):
        if info.expires_at is not None:
            store.set_expiry(info.name, info.expires_at)
        return info
    index = _read_index(store)
    index[info.name] = info
    _write_index(store, index)
    return info


def _purge_expired(store: SecretStore, moment: datetime) -> None:
    index = _read_index(store)
    expired = [n for n, i in index.items() if i.expires_at is not None and i.expires_at <= moment]
    for name in expired:
        store.delete(name)
        index.pop(name)
    if expired:
        _write_index(store, index)


def _read_index(store: SecretStore) -> dict[str, SecretInfo]:
    if isinstance(store, ListingStore):
        return {
            e.name: SecretInfo(name=e.name, updated_at=e.updated_at, expires_at=e.expires_at)
            for e in store.entries()
        }
    raw = store.get(INDEX_NAME)
    if not raw:
        return {}
    try:
        entries = json.loads(raw)
        return {name: SecretInfo(name=name, **data) for name, data in entries.items()}
    except (ValueError, TypeError, AttributeError):
        # A damaged index must not hide the secrets themselves; start a new one.
        return {}


def _write_index(store: SecretStore, index: dict[str, SecretInfo]) -> None:
    if isinstance(store, ListingStore):
        return  # it lists itself
    data = {name: info.model_dump(mode="json", exclude={"name"}) for name, info in index.items()}
    store.set(INDEX_NAME, json.dumps(data, sort_keys=True))


def _now() -> datetime:
    return datetime.now(UTC)
