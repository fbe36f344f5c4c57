"""Error tracking: with SENTRY_DSN set, unexpected errors go to Sentry, secrets scrubbed.

"Unexpected" means what sophia does not classify (a bug): the CLI's "internal error", the
server's unhandled 500, a sync stream that failed with an unclassified exception. Errors
sophia explains to the user (bad input, a store down, a refused budget) are not sent.

Nothing secret may leave: local variables and default integrations (argv, environment,
request bodies) are off, and every string of an event passes `scrub` before sending: values
of secret settings and of secret-looking environment variables, URL passwords, bearer
tokens and well-known token shapes are replaced, as are values under secret-looking keys.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from sophia_cli import __version__
from sophia_cli.core.settings import Settings

FILTERED = "[Filtered]"
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|token|auth|api[_-]?key|private|credential|cookie|dsn|session",
    re.IGNORECASE,
)
_PATTERNS = (
    re.compile(r"(?<=://)[^/\s:@]*:[^@\s/]*(?=@)"),  # user:password@ in any URL
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\b(?:xox[abpr]|sk|pat|ghp|gho|glpat|AKIA)[-_A-Za-z0-9]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWTs
)
_MIN_SECRET_LEN = 6  # shorter values would blank out ordinary words

_secrets: list[str] = []
_active = False


def secret_values(settings: Settings, environ: dict[str, str] | None = None) -> list[str]:
    """Every secret this process knows, longest first: secret settings and env values."""
    from sophia_cli.core.setting_specs import setting_specs

    found = {
        value
        for spec in setting_specs()
        if spec.secret and (value := settings.secret_value(spec.env_name.lower()))
    }
    for name, value in (os.environ if environ is None else environ).items():
        if _SECRET_KEY.search(name):
            found.add(value)
    return sorted((v for v in found if len(v) >= _MIN_SECRET_LEN), key=len, reverse=True)


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, FILTERED)
    for pattern in _PATTERNS:
        text = pattern.sub(FILTERED, text)
    return text


def scrub_message(text: str) -> str:
    """A message shown to people, without secrets the environment holds or that look like one."""
    found = {
        v for k, v in os.environ.items() if _SECRET_KEY.search(k) and len(v) >= _MIN_SECRET_LEN
    }
    return scrub_text(text, sorted(found, key=len, reverse=True))


def scrub(value: Any, secrets: list[str]) -> Any:
    """The event (or any part of it) with every secret replaced."""
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, dict):
        return {
            key: FILTERED
            if isinstance(key, str) and _SECRET_KEY.search(key) and isinstance(item, str)
            else scrub(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item, secrets) for item in value]
    return value


def _before_send(event: Any, hint: Any) -> Any:
    return scrub(event, _secrets)


def init(settings: Settings, face: str) -> bool:
    """Start sending unexpected errors when SENTRY_DSN is set; True when it is."""
    global _active
    dsn = settings.secret_value("sentry_dsn")
    if dsn is None:
        return False
    import sentry_sdk

    _secrets[:] = secret_values(settings)
    sentry_sdk.init(
        dsn=dsn,
        release=f"sophia@{__version__}",
        environment=settings.sophia_env.value,
        default_integrations=False,
        auto_enabling_integrations=False,
        include_local_variables=False,
        max_breadcrumbs=0,
        traces_sample_rate=None,
        before_send=_before_send,
    )
    sentry_sdk.set_tag("face", face)
    _active = True
    return True


def capture(exc: BaseException, **tags: str) -> None:
    """Send one unexpected error (no-op without SENTRY_DSN)."""
    if not _active:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        for name, value in tags.items():
            scope.set_tag(name, value)
        sentry_sdk.capture_exception(exc)


def flush(timeout_s: float = 2.0) -> None:
    """Wait for queued events (a CLI process is about to exit)."""
    if _active:
        import sentry_sdk

        sentry_sdk.flush(timeout=timeout_s)


def stop() -> None:
    """Stop sending (tests, and a process that re-initialises with other settings)."""
    global _active
    if _active:
        import sentry_sdk

        sentry_sdk.flush(timeout=2.0)
        sentry_sdk.get_client().close()
        _active = False
