"""The one place LiteLLM is called: endpoints, keys, the calls themselves and error classes.

LiteLLM is imported inside the functions that call it: importing it costs seconds, and
commands such as `sophia squad models` or `sophia --help` must not pay for it. Calls are
asynchronous (`acompletion`, `aembedding`), so a server worker waiting on providers holds
no thread per call.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad.keys import PROXY_SQUAD, key_value
from sophia_cli.core.squad.models import Deployment
from sophia_cli.core.squad.pricing import litellm_env, provider_of
from sophia_cli.core.squad.request import UNIVERSAL, CompletionRequest

# LiteLLM repeats the class names in front of the provider's message.
_PREFIXES = re.compile(r"^(?:litellm\.\w+:\s*|\w+(?:Error|Exception)(?::\s*|\s+-\s+))+")
# OpenAI takes these, but LiteLLM's OpenAI route keeps them for itself: they go in the body.
_OPENAI_BODY_ONLY = ("user", "metadata")
_TRANSIENT = (
    "Timeout", "APIConnectionError", "APITimeoutError", "ServiceUnavailableError",
    "InternalServerError", "RateLimitError", "BadGatewayError", "MidStreamFallbackError",
)  # fmt: skip
_TIMEOUTS = (
    # Read-side timeouts only: a connect or pool timeout never reached the provider.
    "Timeout", "APITimeoutError", "TimeoutError", "ReadTimeout", "WriteTimeout",
    "ServerTimeoutError", "SocketTimeoutError",
)  # fmt: skip


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
    """A failed call, classified: may the router retry or fall back, and cool down."""

    message: str
    retryable: bool
    cool_down: bool
    status: int | None
    retry_after_s: float | None
    timed_out: bool = False
    client_error: bool = False


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


@lru_cache(maxsize=256)
def supported_params(model: str) -> frozenset[str]:
    """The OpenAI parameters LiteLLM can send to this model's provider."""
    litellm = load_litellm()
    provider = provider_of(model)
    name = model.split("/", 1)[1] if "/" in model else model
    found = litellm.get_supported_openai_params(model=name, custom_llm_provider=provider) or []
    extra = _OPENAI_BODY_ONLY if provider in ("openai", "litellm_proxy") else ()
    return frozenset([*found, *extra, *UNIVERSAL])


def unsupported(target: Endpoint, request: CompletionRequest) -> list[str]:
    """Forwarded parameters this deployment's provider cannot take (none are dropped)."""
    asked = [name for name in request.forwarded() if name not in UNIVERSAL]
    if not asked:
        return []
    known = supported_params(target.model)
    return [name for name in asked if name not in known]


def _kwargs(target: Endpoint, request: CompletionRequest, timeout_s: float) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": target.model,
        "messages": request.messages,
        "timeout": timeout_s,
        "num_retries": 0,
        "max_retries": 0,
    }
    body: dict[str, Any] = {}
    for name, value in request.forwarded().items():
        openai_like = provider_of(target.model) in ("openai", "litellm_proxy")
        if name in _OPENAI_BODY_ONLY and openai_like:
            body[name] = value
        else:
            kwargs[name] = value
    if body:
        kwargs["extra_body"] = body
    if request.max_tokens is not None:
        kwargs[request.max_tokens_field] = request.max_tokens
    if target.api_base:
        kwargs["api_base"] = target.api_base
    if target.api_key:
        kwargs["api_key"] = target.api_key
    return kwargs


async def acall(target: Endpoint, request: CompletionRequest, timeout_s: float) -> Any:
    """One chat completion, with no retries of LiteLLM's own (the router decides)."""
    litellm = load_litellm()
    return await litellm.acompletion(**_kwargs(target, request, timeout_s))


async def astream(
    target: Endpoint, request: CompletionRequest, timeout_s: float
) -> AsyncIterator[Any]:
    """A streamed chat completion; usage is always asked for, to settle the real cost."""
    litellm = load_litellm()
    kwargs = _kwargs(target, request, timeout_s)
    kwargs.update(stream=True, stream_options={"include_usage": True})
    stream: AsyncIterator[Any] = await litellm.acompletion(**kwargs)
    return stream


def provider_reported_usage(upstream: Any) -> bool:
    """Whether the usage LiteLLM just relayed came from the provider, not its own count.

    When a provider sends no usage, LiteLLM (1.105) counts tokens itself and emits a usage
    chunk anyway; a provider's own usage chunk is the last one it recorded in `chunks`.
    """
    chunks: list[Any] = getattr(upstream, "chunks", None) or []
    return bool(chunks) and getattr(chunks[-1], "usage", None) is not None


async def aembed(
    target: Endpoint, inputs: list[str], params: dict[str, Any], timeout_s: float
) -> Any:
    """One embedding call for every input."""
    litellm = load_litellm()
    kwargs: dict[str, Any] = {
        "model": target.model, "input": inputs, "timeout": timeout_s, "max_retries": 0, **params,
    }  # fmt: skip
    if target.api_base:
        kwargs["api_base"] = target.api_base
    if target.api_key:
        kwargs["api_key"] = target.api_key
    return await litellm.aembedding(**kwargs)


def call(target: Endpoint, request: CompletionRequest, timeout_s: float) -> Any:
    """One synchronous chat completion (the `squad test` ping)."""
    litellm = load_litellm()
    return litellm.completion(**_kwargs(target, request, timeout_s))


def classify(exc: BaseException) -> CallFailure:
    """Sort a LiteLLM/OpenAI error into retry-or-fall-back (cooling down) or stop."""
    status = getattr(exc, "status_code", None)
    status = int(status) if isinstance(status, int) else None
    name = type(exc).__name__
    text = _PREFIXES.sub("", str(exc).splitlines()[0] if str(exc) else "") or name
    message = f"{name}{f' {status}' if status else ''}: {text[:200]}"
    if name == "ContextWindowExceededError":
        # Another deployment may have a larger window; this one is healthy.
        return CallFailure(message, True, False, status, None)
    timed_out = status == 408 or _is_timeout(exc)
    transient = name in _TRANSIENT or isinstance(exc, TimeoutError | ConnectionError)
    if transient or timed_out or (status is not None and (status == 429 or status >= 500)):
        wait = retry_after(exc)
        if wait is not None:
            message += f" (Retry-After {wait:.0f}s)"
        return CallFailure(message, True, True, status, wait, timed_out=timed_out)
    client_error = status in (400, 404, 413, 422) or name in ("BadRequestError", "NotFoundError")
    return CallFailure(message, False, False, status, None, client_error=client_error)


def _is_timeout(exc: BaseException) -> bool:
    """A timeout anywhere in the chain: LiteLLM sometimes wraps a read timeout of its HTTP
    transport in an APIConnectionError, and a timed-out request may still be billed, so it must
    be charged its estimate and not retried as if it never reached the provider."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        name = type(seen).__name__
        if name in _TIMEOUTS or isinstance(seen, TimeoutError) or "timed out" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def retry_after(exc: BaseException) -> float | None:
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
