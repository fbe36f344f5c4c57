"""Fixtures for env tests: small fixture projects in a fresh git repo, a headless keyring."""

from __future__ import annotations

from pathlib import Path

import pytest
from env_helpers import KEYRING_PASSWORD, WriteEnv, git


@pytest.fixture(autouse=True)
def _no_keyring_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SOPHIA_KEYRING_BACKEND", "SOPHIA_KEYRING_PASSWORD", "PYTHON_KEYRING_BACKEND"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git repo ignoring the private env files, as the current directory."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text(".env.development\n.env.production\n.env.master\n")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def write_env(project: Path) -> WriteEnv:
    """Write an env file into the project (`.env.master` gets mode 600)."""

    def write(name: str, text: str) -> Path:
        path = project / name
        path.write_text(text, encoding="utf-8")
        if name == ".env.master":
            path.chmod(0o600)
        return path

    return write


@pytest.fixture
def slow_kdf_cryptfile_keyring(monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> Path:
    """Select the encrypted-file keyring under this test's SOPHIA_HOME (production KDF)."""
    monkeypatch.setenv("SOPHIA_KEYRING_BACKEND", "cryptfile")
    monkeypatch.setenv("SOPHIA_KEYRING_PASSWORD", KEYRING_PASSWORD)
    return isolated_env / "keyring.cfg"


@pytest.fixture
def cryptfile_keyring(slow_kdf_cryptfile_keyring: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The same real encrypted-file keyring with cheap Argon2 parameters.

    Every read and write derives a key with Argon2 (time cost 15, 64 MB by default: about a
    second per operation on a busy 2-core machine). Like Django's fast test password hasher,
    tests use small parameters; the encryption code path is unchanged.
    """
    from keyrings.cryptfile.cryptfile import CryptFileKeyring

    monkeypatch.setattr(CryptFileKeyring, "time_cost", 1)
    monkeypatch.setattr(CryptFileKeyring, "memory_cost", 2**10)
    return slow_kdf_cryptfile_keyring


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with no usable keyring backend (keyring's own `fail` backend)."""
    monkeypatch.setenv("SOPHIA_KEYRING_BACKEND", "system")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
