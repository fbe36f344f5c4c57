"""What a caller asks of the squad, and the OpenAI request body turned into it.

Every OpenAI chat parameter is either forwarded to the provider as sent, or refused with a
400 that names it: nothing is dropped silently. Capabilities are inferred from the request
itself (image parts need vision, `response_format` needs json, tools need tools), so a
deployment that cannot honour a request is never chosen for it.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from sophia_cli.core.errors import UsageError

# Forwarded as sent (LiteLLM maps them for non-OpenAI providers, or the router skips a
# deployment whose provider cannot take one).
FORWARDED = frozenset(
    {
        "temperature", "top_p", "n", "stop", "seed", "user", "logprobs", "top_logprobs",
        "tools", "tool_choice", "parallel_tool_calls", "response_format", "presence_penalty",
        "frequency_penalty", "logit_bias", "reasoning_effort", "functions", "function_call",
        "prediction", "service_tier", "safety_identifier", "prompt_cache_key", "metadata",
        "store", "verbosity",
    }
)  # fmt: skip
# Every chat deployment takes these (LiteLLM translates them for each provider).
UNIVERSAL = frozenset(
    {"temperature", "top_p", "stop", "tools", "tool_choice", "response_format", "user"}
)
REFUSED = {
    "audio": "audio output is not priced by the squad",
    "modalities": "only text output is supported",
    "web_search_options": "web search is billed per query, which the budget cannot reserve",
}
CONTROL = frozenset({"model", "messages", "max_tokens", "max_completion_tokens", "stream"})
EXTENSIONS = frozenset({"stream_options", "use_cache", "capabilities"})
_CONTENT_PARTS = {"text": None, "image_url": "vision", "input_image": "vision", "refusal": None}
FEATURE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
AUTO = "auto"


class ParameterError(UsageError):
    """A request parameter the squad cannot honour; the body names it like OpenAI does."""

    code = "invalid_parameter"

    def __init__(self, param: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.param = param

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["error"]["param"] = self.param
        body["error"]["type"] = "invalid_request_error"
        return body


class CompletionRequest(BaseModel):
    """A chat request: the messages, what the answer needs, and how to pick who answers."""

    messages: list[dict[str, Any]] = Field(min_length=1)
    model: str = Field(default=AUTO, description="auto, a squad, a deployment or a model id")
    capabilities: list[str] = ["chat"]
    max_tokens: int | None = Field(default=None, gt=0, description="None: the model's limit")
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    temperature: float | None = None
    response_format: dict[str, Any] | None = None
    tools: list[Any] | None = None
    params: dict[str, Any] = Field(default={}, description="other OpenAI parameters, as sent")
    stream: bool = False
    include_usage: bool = False
    use_cache: bool = True
    squad: str | None = None

    def forwarded(self) -> dict[str, Any]:
        """Every OpenAI parameter to send upstream (max tokens apart)."""
        extra = {
            "temperature": self.temperature,
            "response_format": self.response_format,
            "tools": self.tools or None,
        }
        return {**self.params, **{k: v for k, v in extra.items() if v is not None}}

    @property
    def choices(self) -> int:
        return int(self.params.get("n") or 1)

    def needed_capabilities(self) -> list[str]:
        """The capabilities asked for plus those the request itself implies."""
        needed = dict.fromkeys(["chat", *self.capabilities])
        forwarded = self.forwarded()
        if forwarded.get("tools") or forwarded.get("functions"):
            needed["tools"] = None
        kind = (forwarded.get("response_format") or {}).get("type")
        if kind in ("json_object", "json_schema"):
            needed["json"] = None
        for message in self.messages:
            for part in _parts(message):
                capability = _CONTENT_PARTS.get(str(part.get("type")))
                if capability:
                    needed[capability] = None
        return list(needed)


class Observer(Protocol):
    """What the router reports as it works (the server turns it into Prometheus metrics)."""

    def attempt(self, squad: str, deployment: str, outcome: str, seconds: float) -> None: ...
    def fallback(self, squad: str, deployment: str) -> None: ...
    def cooldown(self, squad: str, deployment: str) -> None: ...
    def budget(self, remaining_usd: float) -> None: ...


class CallContext(BaseModel):
    """Who is calling and for what: recorded with every call, and budgeted."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    caller: str | None = Field(default=None, max_length=200)
    feature: str | None = Field(default=None, pattern=FEATURE_PATTERN.pattern)
    observer: Any = None


def _parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []


def from_openai(body: dict[str, Any]) -> CompletionRequest:
    """An OpenAI chat request body as a CompletionRequest, or a ParameterError naming the field."""
    for name, value in body.items():
        if name in REFUSED:
            if value is None:
                continue
            raise ParameterError(name, f"{name} is not supported: {REFUSED[name]}")
        if name not in FORWARDED and name not in CONTROL and name not in EXTENSIONS:
            raise ParameterError(
                name,
                f"unknown parameter {name}",
                hint="See the OpenAI chat completions reference; sophia forwards every "
                "parameter it lists except audio output and web search.",
            )
    messages = _messages(body.get("messages"))
    params = _checked({k: v for k, v in body.items() if k in FORWARDED and v is not None})
    limit_field: Literal["max_tokens", "max_completion_tokens"] = (
        "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    )
    stream_options = _mapping(body.get("stream_options"), "stream_options")
    return CompletionRequest(
        messages=messages,
        model=_text(body.get("model", AUTO), "model") or AUTO,
        capabilities=_capabilities(body.get("capabilities")),
        max_tokens=_positive(body.get(limit_field), limit_field),
        max_tokens_field=limit_field,
        temperature=params.pop("temperature", None),
        response_format=params.pop("response_format", None),
        tools=params.pop("tools", None),
        params=params,
        stream=_flag(body.get("stream"), "stream"),
        include_usage=_flag(stream_options.get("include_usage"), "stream_options.include_usage"),
        use_cache=_flag(body.get("use_cache", True), "use_cache"),
    )


def _messages(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ParameterError("messages", "messages must be a non-empty list")
    for index, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ParameterError("messages", f"messages[{index}] must be an object with a role")
        for part in _parts(message):
            kind = str(part.get("type"))
            if kind not in _CONTENT_PARTS:
                raise ParameterError(
                    "messages",
                    f"messages[{index}] has a {kind!r} content part, which is not supported",
                    hint="Send text and image_url parts only.",
                )
    return value


def _checked(params: dict[str, Any]) -> dict[str, Any]:
    """Type checks where a wrong value would cost money or hang a client."""
    n = params.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 16):
        raise ParameterError("n", "n must be an integer from 1 to 16")
    temperature = params.get("temperature")
    if temperature is not None and not isinstance(temperature, int | float):
        raise ParameterError("temperature", "temperature must be a number")
    for name in ("tools", "functions", "stop"):
        value = params.get(name)
        if name == "stop" and isinstance(value, str):
            continue
        if value is not None and not isinstance(value, list):
            raise ParameterError(name, f"{name} must be a list")
    if params.get("response_format") is not None:
        _mapping(params["response_format"], "response_format")
    return params


def _mapping(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParameterError(name, f"{name} must be an object")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise ParameterError(name, f"{name} must be a string of at most 200 characters")
    return value.strip()


def _flag(value: Any, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ParameterError(name, f"{name} must be true or false")
    return value


def _positive(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 1_000_000:
        raise ParameterError(name, f"{name} must be a positive integer")
    return value


def _capabilities(value: Any) -> list[str]:
    if value is None:
        return ["chat"]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ParameterError("capabilities", "capabilities must be a list of names")
    return ["chat", *value]
