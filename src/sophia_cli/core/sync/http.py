"""One HTTP client per API: auth, rate limits, retries with backoff and jitter.

Connectors call `request()` and receive a response whose status they classify; the
classification raises TransientApiError (retried here, honouring Retry-After) or a terminal
error (raised to the stream at once).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from sophia_cli.core.settings import Settings
from sophia_cli.core.sync.errors import MalformedResponseError, TransientApiError, excerpt
from sophia_cli.core.sync.limiter import SlidingWindowLimiter

Classifier = Callable[[httpx.Response], None]
_backoff = wait_exponential_jitter(multiplier=0.5, max=30.0, jitter=0.5)


def retry_after_s(response: httpx.Response, default: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form), else `default`."""
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def _wait(state: RetryCallState) -> float:
    """Retry-After when the server gave one (plus jitter from the backoff), else backoff."""
    backoff = _backoff(state)
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    if isinstance(exc, TransientApiError) and exc.retry_after_s is not None:
        return exc.retry_after_s + min(backoff, 0.25)
    return backoff


class ApiClient:
    """An async httpx client bound to one API's base URL, limits and error classifier."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        headers: Mapping[str, str],
        classify: Classifier,
        limits: Mapping[str, SlidingWindowLimiter] | None = None,
        timeout_s: float = 30.0,
        max_attempts: int = 8,
        retry_after_scale: float = 1.0,
    ) -> None:
        self.name = name
        # Real seconds per second of Retry-After: 1, except against a sandbox whose clock
        # runs faster than ours (its Slack minute may last a fraction of a second).
        self.retry_after_scale = retry_after_scale
        self.retries = 0
        self.requests = 0
        self._classify = classify
        self._limits = dict(limits or {})
        self._max_attempts = max_attempts
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=dict(headers), timeout=timeout_s
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, path: str, *, buckets: tuple[str, ...] = ("default",), **kwargs: Any
    ) -> httpx.Response:
        """Send one request with limits and retries; returns a response that classified ok."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientApiError),
            stop=stop_after_attempt(self._max_attempts),
            wait=_wait,
            before_sleep=self._count_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send_once(method, path, buckets, **kwargs)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def json(
        self, method: str, path: str, *, buckets: tuple[str, ...] = ("default",), **kwargs: Any
    ) -> Any:
        """`request()` and decode the JSON body, or MalformedResponseError with an excerpt."""
        response = await self.request(method, path, buckets=buckets, **kwargs)
        return decode(response, self.name)

    async def _send_once(
        self, method: str, path: str, buckets: tuple[str, ...], **kwargs: Any
    ) -> httpx.Response:
        for bucket in buckets:
            limiter = self._limits.get(bucket)
            if limiter is not None:
                await limiter.acquire()
        self.requests += 1
        if isinstance(kwargs.get("params"), dict):  # httpx would send None as an empty value
            kwargs["params"] = {k: v for k, v in kwargs["params"].items() if v is not None}
        try:
            response = await self._http.request(method, path, **kwargs)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise TransientApiError(f"{self.name} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429:
            wait = retry_after_s(response, None)
            for bucket in buckets:
                limiter = self._limits.get(bucket)
                if limiter is not None and wait is not None:
                    limiter.pause(wait * self.retry_after_scale)
        try:
            self._classify(response)
        except TransientApiError as exc:
            if exc.retry_after_s is not None:
                exc.retry_after_s *= self.retry_after_scale
            raise
        return response

    def _count_retry(self, state: RetryCallState) -> None:
        self.retries += 1


def decode(response: httpx.Response, api: str) -> Any:
    """The JSON body, or MalformedResponseError quoting the start of what came back."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(
            f"{api} {response.request.url.path} answered {response.status_code} with a body "
            f"that is not JSON: {excerpt(response.text)!r}"
        ) from exc


def shape_error(api: str, path: str, what: str, body: Any) -> MalformedResponseError:
    """The error for a JSON body that lacks what the API documents."""
    text = json.dumps(body, default=str) if not isinstance(body, str) else body
    return MalformedResponseError(f"{api} {path}: {what}; got {excerpt(text)!r}")


def transient_status(response: httpx.Response, api: str) -> None:
    """Raise TransientApiError for 429 and 5xx (shared by every classifier)."""
    status = response.status_code
    if status == 429:
        raise TransientApiError(
            f"{api} rate limited {response.request.url.path} (429)",
            retry_after_s=retry_after_s(response, 1.0),
        )
    if status >= 500:
        raise TransientApiError(
            f"{api} {response.request.url.path} answered {status}: {excerpt(response.text)!r}",
            retry_after_s=retry_after_s(response, None),
        )


def client_for(
    settings: Settings,
    name: str,
    base_url: str,
    *,
    headers: Mapping[str, str],
    classify: Classifier,
    published_limits: Mapping[str, SlidingWindowLimiter],
    retry_after_scale: float = 1.0,
) -> ApiClient:
    """An ApiClient with this run's timeout and attempts, at the API's published limits.

    SYNC_RATE_LIMITS=off drops the client-side limits (the sandbox's fast mode, benchmarks).
    """
    return ApiClient(
        name,
        base_url,
        headers=headers,
        classify=classify,
        limits=published_limits if settings.sync_rate_limits == "published" else None,
        timeout_s=settings.sync_http_timeout_s,
        max_attempts=settings.sync_max_attempts,
        retry_after_scale=retry_after_scale,
    )
