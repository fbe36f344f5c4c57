"""How a failed provider call is classified decides whether it is charged and retried."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sophia_cli.core.squad.llm import classify, load_litellm


@pytest.fixture(scope="module")
def litellm() -> Any:
    """Imported the product's way: a bare `import litellm` fetches its price map online."""
    return load_litellm()


def wrapped(litellm: Any, cause: BaseException) -> BaseException:
    error: BaseException = litellm.APIConnectionError(
        message="Connection error.", llm_provider="openai", model="m"
    )
    error.__cause__ = cause
    return error


def test_a_read_timeout_wrapped_in_a_connection_error_is_a_timeout(litellm: Any) -> None:
    failure = classify(wrapped(litellm, httpx.ReadTimeout("read")))
    assert failure.timed_out and failure.retryable


def test_a_refused_connection_is_not_a_timeout(litellm: Any) -> None:
    failure = classify(wrapped(litellm, httpx.ConnectError("refused")))
    assert not failure.timed_out and failure.retryable


def test_litellms_own_timeout_is_a_timeout(litellm: Any) -> None:
    error = litellm.Timeout(message="Request timed out.", llm_provider="openai", model="m")
    assert classify(error).timed_out
