"""The keyring adapter: the OS keyring, or an encrypted file when asked for, never plaintext.

`SOPHIA_KEYRING_BACKEND=system` uses the operating system's keyring (macOS Keychain, Windows
Credential Locker, Secret Service / KWallet). `cryptfile` uses an AES-encrypted file under
SOPHIA_HOME unlocked by SOPHIA_KEYRING_PASSWORD, for headless machines and tests. There is no
silent fallback: when neither works, one error says what the options are.
"""

from __future__ import annotations

import os
from typing import Any

from sophia_cli.core.errors import AuthenticationError, ConfigError
from sophia_cli.core.settings import Settings

SERVICE = "sophia"
CRYPTFILE_NAME = "keyring.cfg"

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
    """A keyring backend bound to the `sophia` service."""

    def __init__(self, backend: Any, description: str) -> None:
        self._backend = backend
        self.description = description

    def get(self, name: str) -> str | None:
        """The stored value of `name`, or None."""
        value = self._call("read", self._backend.get_password, SERVICE, name)
        return value if isinstance(value, str) else None

    def set(self, name: str, value: str) -> None:
        """Store `value` under `name`, replacing any previous value."""
        self._call("write", self._backend.set_password, SERVICE, name, value)

    def delete(self, name: str) -> bool:
        """Remove `name`; False when it was not stored."""
        if self.get(name) is None:
            return False
        self._call("delete", self._backend.delete_password, SERVICE, name)
        return True

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
    if settings.sophia_keyring_backend == "cryptfile":
        return _cryptfile(settings)
    return _system()


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


def _cryptfile(settings: Settings) -> Keyring:
    password = settings.secret_value("sophia_keyring_password")
    if not password:
        raise KeyringUnavailableError(
            "SOPHIA_KEYRING_BACKEND=cryptfile needs SOPHIA_KEYRING_PASSWORD to unlock the file",
            hint="Export SOPHIA_KEYRING_PASSWORD (never write it into an env file in the repo).",
        )
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    backend = CryptFileKeyring()
    path = settings.home / CRYPTFILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    backend.file_path = str(path)
    try:
        backend.keyring_key = password
    except ValueError as exc:
        raise AuthenticationError(
            f"SOPHIA_KEYRING_PASSWORD does not unlock {path}",
            hint="Use the password the file was created with, or move the file away to start over.",
        ) from exc
    return Keyring(backend, f"cryptfile: {path}")
