"""How a failed provider call is classified decides whether it is charged and retried."""

from __future__ import annotations

import httpx
import litellm

from sophia_cli.core.squad.llm import classify


def wrapped(cause: BaseException) -> BaseException:
    error = litellm.APIConnectionError(
        message="Connection error.", llm_provider="openai", model="m"
    )
    error.__cause__ = cause
    return error


def test_a_read_timeout_wrapped_in_a_connection_error_is_a_timeout() -> None:
    failure = classify(wrapped(httpx.ReadTimeout("read")))
    assert failure.timed_out and failure.retryable


def test_a_refused_connection_is_not_a_timeout() -> None:
    failure = classify(wrapped(httpx.ConnectError("refused")))
    assert not failure.timed_out and failure.retryable


def test_litellms_own_timeout_is_a_timeout() -> None:
    error = litellm.Timeout(message="Request timed out.", llm_provider="openai", model="m")
    assert classify(error).timed_out
