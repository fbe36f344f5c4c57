"""The keyring adapter: the OS keyring, or an encrypted file when asked for, never plaintext.

`SOPHIA_KEYRING_BACKEND=system` uses the operating system's keyring (macOS Keychain, Windows
Credential Locker, Secret Service / KWallet). `cryptfile` uses an AES-encrypted file under
SOPHIA_HOME unlocked by SOPHIA_KEYRING_PASSWORD, for headless machines and tests. There is no
silent fallback: when neither works, one error says what the options are.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sophia_cli.core.errors import AuthenticationError, ConfigError
from sophia_cli.core.settings import Settings

SERVICE = "sophia"
CRYPTFILE_NAME = "keyring.cfg"
# Written the first time sophia stores a secret, so that commands only pay for keyring
# discovery (a few hundred milliseconds) on machines where the keyring is in use.
IN_USE_MARKER = "keyring-in-use"

_OPTIONS_HINT = (
    "Options: keep secrets in environment variables or in .env.master (mode 600); "
    "or set SOPHIA_KEYRING_BACKEND=cryptfile with SOPHIA_KEYRING_PASSWORD for an encrypted "
    "file under SOPHIA_HOME; or install an OS keyring service (Secret Service, KWallet)."
)
# Backends that exist but must never hold our secrets: they fail, prompt, or store plaintext.
_REJECTED_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyring.backends.chainer")


class KeyringUnavailableError(ConfigError):
    """No usable keyring backend on this machine."""

    code = "keyring_unavailable"
    default_hint = _OPTIONS_HINT


class Keyring:
    """A keyring backend bound to the `sophia` service.

    For a file backend (`path` given) values read are cached until the file changes, because
    every encrypted read derives a key with Argon2 (a fraction of a second each, by design).
    """

    label = "the keyring"

    def __init__(
        self, backend: Any, description: str, path: Path | None = None, marker: Path | None = None
    ) -> None:
        self._backend = backend
        self.description = description
        self._path = path
        self.marker = marker
        self._cache: dict[str, str | None] = {}
        self._seen: int | None = self._stamp()

    def get(self, name: str) -> str | None:
        """The stored value of `name`, or None."""
        self._revalidate()
        if name in self._cache:
            return self._cache[name]
        value = self._call("read", self._backend.get_password, SERVICE, name)
        value = value if isinstance(value, str) else None
        if self._path is not None:
            self._cache[name] = value
        return value

    def set(self, name: str, value: str) -> None:
        """Store `value` under `name`, replacing any previous value."""
        self._revalidate()
        self._call("write", self._backend.set_password, SERVICE, name, value)
        self._remember(name, value)
        if self.marker is not None and not self.marker.exists():
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.write_text(self.description + "\n", encoding="utf-8")

    def delete(self, name: str) -> bool:
        """Remove `name`; False when it was not stored."""
        if self.get(name) is None:
            return False
        self._call("delete", self._backend.delete_password, SERVICE, name)
        self._remember(name, None)
        return True

    def _stamp(self) -> int | None:
        if self._path is None or not self._path.exists():
            return None
        return self._path.stat().st_mtime_ns

    def _revalidate(self) -> None:
        # Another process wrote the file: forget what we read before.
        stamp = self._stamp()
        if stamp != self._seen:
            self._cache.clear()
            self._seen = stamp

    def _remember(self, name: str, value: str | None) -> None:
        if self._path is not None:
            self._cache[name] = value
            self._seen = self._stamp()

    def _call(self, verb: str, function: Any, *args: str) -> Any:
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            return function(*args)
        except PasswordDeleteError:
            return None
        except KeyringError as exc:
            raise KeyringUnavailableError(
                f"the keyring ({self.description}) failed to {verb}: {exc}".splitlines()[0]
            ) from exc


def open_keyring(settings: Settings) -> Keyring:
    """The keyring selected by SOPHIA_KEYRING_BACKEND; raises KeyringUnavailableError."""
    keyring = _cryptfile(settings) if settings.sophia_keyring_backend == "cryptfile" else _system()
    keyring.marker = settings.home / IN_USE_MARKER
    return keyring


def keyring_in_use(settings: Settings) -> bool:
    """Whether sophia ever stored a secret in a keyring for this SOPHIA_HOME."""
    return (settings.home / IN_USE_MARKER).exists()


def _system() -> Keyring:
    import keyring
    from keyring.backend import get_all_keyring

    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        # The user named a backend explicitly; honour it unless it is a non-backend.
        candidates = [keyring.get_keyring()]
    else:
        candidates = sorted(get_all_keyring(), key=lambda b: b.priority, reverse=True)
    for backend in candidates:
        module = type(backend).__module__
        # Third-party file backends (keyrings.alt, cryptfile) prompt or store plaintext;
        # only the OS backends that ship with keyring count as "the system keyring".
        if module.startswith("keyring.backends.") and not module.startswith(_REJECTED_MODULES):
            return Keyring(backend, f"system: {type(backend).__name__}")
    raise KeyringUnavailableError("no usable OS keyring on this machine (headless?)")


# Unlocked file keyrings of this process, by file and password digest (unlocking costs).
_unlocked: dict[tuple[str, str], Keyring] = {}


def _cryptfile(settings: Settings) -> Keyring:
    password = settings.secret_value("sophia_keyring_password")
    if not password:
        raise KeyringUnavailableError(
            "SOPHIA_KEYRING_BACKEND=cryptfile needs SOPHIA_KEYRING_PASSWORD to unlock the file",
            hint="Export SOPHIA_KEYRING_PASSWORD (never write it into an env file in the repo).",
        )
    path = settings.home / CRYPTFILE_NAME
    key = (str(path), hashlib.sha256(password.encode()).hexdigest())
    if key not in _unlocked or not path.exists():
        _unlocked[key] = _unlock(path, password)
    return _unlocked[key]


def _unlock(path: Path, password: str) -> Keyring:
    from keyrings.cryptfile.cryptfile import CryptFileKeyring  # type: ignore[import-untyped]

    backend = CryptFileKeyring()
    path.parent.mkdir(parents=True, exist_ok=True)
    backend.file_path = str(path)
    try:
        backend.keyring_key = password
    except ValueError as exc:
        raise AuthenticationError(
            f"SOPHIA_KEYRING_PASSWORD does not unlock {path}",
            hint="Use the password the file was created with, or move the file away to start over.",
        ) from exc
    return Keyring(backend, f"cryptfile: {path}", path)
