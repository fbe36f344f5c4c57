"""The one place LiteLLM is called: endpoints, keys, the call itself and error classes.

LiteLLM is imported inside `call()` only: importing it costs seconds, and commands such as
`sophia squad models` or `sophia --help` must not pay for it.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad.models import CompletionRequest, Deployment
from sophia_cli.core.squad.pricing import litellm_env

PROXY_SQUAD = "litellm"
# LiteLLM repeats the class names in front of the provider's message.
_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*|\w+(?:Error|Exception)(?::\s*|\s+-\s+))+")


@dataclass(frozen=True)
class Endpoint:
    """Where and how one deployment is called."""

    model: str
    api_base: str | None
    key_env: str | None
    api_key: str | None

    @property
    def configured(self) -> bool:
        return self.key_env is None or bool(self.api_key)


@dataclass(frozen=True)
class CallFailure:
    """A failed call, classified: may the router fall back, and for how long to cool down."""

    message: str
    retryable: bool
    cool_down: bool
    status: int | None
    retry_after_s: float | None


def key_value(settings: Settings, env_name: str) -> str | None:
    """A key by variable name: a declared setting (env files, keyring) else the process env."""
    field = env_name.lower()
    if field in type(settings).model_fields:
        return settings.secret_value(field)
    value = os.environ.get(env_name, "").strip()
    return value or None


def endpoint(settings: Settings, squad: str, deployment: Deployment) -> Endpoint:
    """The deployment's endpoint; the litellm squad goes through LITELLM_API_BASE when set."""
    if squad == PROXY_SQUAD and settings.litellm_api_base and deployment.api_base is None:
        return Endpoint(
            model=f"litellm_proxy/{deployment.model}",
            api_base=settings.litellm_api_base,
            key_env="LITELLM_API_KEY",
            api_key=key_value(settings, "LITELLM_API_KEY"),
        )
    key_env = deployment.api_key_env
    return Endpoint(
        model=deployment.model,
        api_base=deployment.api_base,
        key_env=key_env,
        api_key=key_value(settings, key_env) if key_env else None,
    )


def load_litellm() -> Any:
    """Import LiteLLM (seconds the first time) with the offline price map and no banners."""
    litellm_env()
    import litellm

    litellm.suppress_debug_info = True
    return litellm


def call(target: Endpoint, request: CompletionRequest, timeout_s: float) -> Any:
    """One chat completion through LiteLLM, with no retries of its own (the router decides)."""
    litellm = load_litellm()
    kwargs: dict[str, Any] = {
        "model": target.model,
        "messages": request.messages,
        "max_tokens": request.max_tokens,
        "timeout": timeout_s,
        "num_retries": 0,
        "max_retries": 0,
    }
    if target.api_base:
        kwargs["api_base"] = target.api_base
    if target.api_key:
        kwargs["api_key"] = target.api_key
    if request.temperature is not None:
        kwargs["temperature"] = request.temperature
    if request.response_format is not None:
        kwargs["response_format"] = request.response_format
    if request.tools:
        kwargs["tools"] = request.tools
    return litellm.completion(**kwargs)


def classify(exc: Exception) -> CallFailure:
    """Sort a LiteLLM/OpenAI error into fall-back-and-cool-down, fall-back, or stop."""
    status = getattr(exc, "status_code", None)
    status = int(status) if isinstance(status, int) else None
    name = type(exc).__name__
    text = _PREFIXES.sub("", str(exc).splitlines()[0] if str(exc) else "") or name
    message = f"{name}{f' {status}' if status else ''}: {text[:200]}"
    if name == "ContextWindowExceededError":
        # Another deployment may have a larger window; this one is healthy.
        return CallFailure(
            message, retryable=True, cool_down=False, status=status, retry_after_s=None
        )
    transient = name in (
        "Timeout",
        "APIConnectionError",
        "APITimeoutError",
        "ServiceUnavailableError",
        "InternalServerError",
        "RateLimitError",
        "BadGatewayError",
    )
    if transient or (status is not None and (status == 429 or status >= 500 or status == 408)):
        wait = retry_after(exc)
        if wait is not None:
            message += f" (Retry-After {wait:.0f}s)"
        return CallFailure(message, True, True, status, wait)
    return CallFailure(message, retryable=False, cool_down=False, status=status, retry_after_s=None)


def retry_after(exc: Exception) -> float | None:
    """Seconds from a Retry-After header on the error's response (delta or HTTP date)."""
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def usage_of(response: Any) -> tuple[int | None, int | None]:
    """Prompt and completion tokens from a response's usage, None when not reported."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return None, None
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    return (
        int(prompt) if prompt is not None else None,
        int(completion) if completion is not None else None,
    )


def message_of(response: Any) -> tuple[str, dict[str, Any]]:
    """The answer's text and the whole assistant message (tool calls included)."""
    message = response.choices[0].message
    raw = message.model_dump() if hasattr(message, "model_dump") else dict(message)
    return message.content or "", raw
