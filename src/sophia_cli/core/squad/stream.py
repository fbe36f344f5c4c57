"""Streamed completions: fall back until a deployment sends its first chunk, then relay.

The router's attempt loop runs until some deployment has produced a first chunk (so a 429
or a dead provider still falls back, and errors before the stream starts are ordinary HTTP
errors). From then on the chunks are relayed as OpenAI `chat.completion.chunk` objects. The
books close when the stream ends: at LiteLLM's price for the final usage chunk, or, when a
stream ends without usage, is cut upstream or abandoned by the client, at the reservation,
marked as an estimate to reconcile. `finish()` is idempotent and safe to call from a
`finally`, whatever interrupted the stream.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sophia_cli.core.settings import Settings
from sophia_cli.core.squad import answers, books, cache, cooldown, llm
from sophia_cli.core.squad.config import load_squads
from sophia_cli.core.squad.models import Deployment, SquadsConfig
from sophia_cli.core.squad.plan import plan
from sophia_cli.core.squad.request import CallContext, CompletionRequest
from sophia_cli.core.squad.results import Candidate, RoutingRecord
from sophia_cli.core.squad.router import Attempts

_DELTA_KEYS = ("role", "content", "tool_calls", "function_call", "refusal", "reasoning_content")


class CompletionStream:
    """An answer arriving chunk by chunk, whose books close when it ends (however it ends)."""

    def __init__(
        self,
        settings: Settings,
        config: SquadsConfig,
        request: CompletionRequest,
        record: RoutingRecord,
        first: Any,
        upstream: Any = None,
        ticket: books.Ticket | None = None,
        candidate: Candidate | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.settings, self.config, self.request, self.record = settings, config, request, record
        self.upstream, self.ticket, self.candidate = upstream, ticket, candidate
        self.timeout_s = timeout_s
        self._pending: Any = first
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self.usage: Any = None
        self.finish_reason: str | None = None
        self.text: list[str] = []
        self.tool_calls = False
        self.upstream_model: str | None = None
        self.error: str | None = None
        self.done = False

    @property
    def squad(self) -> str:
        return self.candidate.squad if self.candidate else self.record.chosen or ""

    @property
    def deployment(self) -> str:
        return self.candidate.deployment if self.candidate else ""

    async def chunks(self) -> AsyncIterator[dict[str, Any]]:
        """OpenAI chunk objects; an upstream failure mid-stream ends with an error object."""
        try:
            chunk = self._pending
            while chunk is not None:
                data = self._observe(chunk)
                if data is not None:
                    yield data
                chunk = await self._next()
            self.done = True
            await asyncio.to_thread(self.finish)
        except Exception as exc:  # the provider cut the stream after it started
            failure = llm.classify(exc)
            self.error = failure.message
            await asyncio.to_thread(self.finish)
            yield {"error": {"message": f"the upstream stream failed: {failure.message}",
                             "type": "upstream_error", "code": "upstream"}}  # fmt: skip
        finally:
            self.finish()

    async def _next(self) -> Any:
        if self.upstream is None:
            return None
        try:
            async with asyncio.timeout(self.timeout_s):
                return await anext(self.upstream)
        except StopAsyncIteration:
            return None

    def _observe(self, chunk: Any) -> dict[str, Any] | None:
        """Note usage, text and finish reason; the chunk as the client should see it."""
        data = chunk if isinstance(chunk, dict) else answers.plain(chunk)
        self.upstream_model = data.get("model") or self.upstream_model
        usage = data.get("usage") if isinstance(chunk, dict) else getattr(chunk, "usage", None)
        reported = bool(usage) and (
            isinstance(chunk, dict) or llm.provider_reported_usage(self.upstream)
        )
        if reported:
            self.usage = usage
        choices = []
        for choice in data.get("choices") or []:
            delta = {k: v for k, v in (choice.get("delta") or {}).items() if k in _DELTA_KEYS}
            delta = {k: v for k, v in delta.items() if v is not None}
            if choice.get("index", 0) == 0 and delta.get("content"):
                self.text.append(str(delta["content"]))
            self.tool_calls = self.tool_calls or bool(delta.get("tool_calls"))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            if delta or choice.get("finish_reason") or choice.get("logprobs"):
                choices.append(
                    {"index": choice.get("index", 0), "delta": delta,
                     "finish_reason": choice.get("finish_reason"),
                     "logprobs": choice.get("logprobs")}
                )  # fmt: skip
        out = {k: data[k] for k in ("id", "created", "model", "system_fingerprint") if k in data}
        out.update(object="chat.completion.chunk", choices=choices)
        if usage and self.request.include_usage:
            out["usage"] = answers.compact(usage)
            if not reported:  # LiteLLM counted it: say so rather than pass it off as billed
                out["usage"]["sophia_estimated"] = True
            return out
        return out if choices else None

    def finish(self) -> None:
        """Close the books once: real cost from usage, else the reservation as an estimate."""
        with self._lock:
            if self.ticket is None or self.ticket.closed:
                return
            ticket, candidate = self.ticket, self.candidate
            assert candidate is not None
            self.ticket = None
        latency_ms = int((time.perf_counter() - self._started) * 1000)
        upstream = self.upstream
        if upstream is not None and not self.done:
            _close_later(upstream)
        deployment = self.config.deployment(candidate.squad, candidate.deployment)
        if self.usage is not None and (self.done or self.finish_reason):
            answers.settle_usage(
                self.settings, self.config, ticket, deployment, _usage(self.usage),
                self.finish_reason, latency_ms,
            )  # fmt: skip
            self._cache(candidate, deployment)
            return
        reason = self.error or ("no usage reported" if self.done else "client went away")
        books.charge_estimate(
            self.settings, ticket, "ok" if self.done else "cut", reason, latency_ms
        )
        if self.error is not None:
            cooldown.record_failure(
                self.settings, self.config.router, candidate.squad, candidate.deployment
            )

    def _cache(self, candidate: Candidate, deployment: Deployment) -> None:
        if self.tool_calls or self.request.choices != 1 or not self.done:
            return
        if not cache.cacheable(self.settings, self.config.router, self.request):
            return
        tokens_in, tokens_out, _ = answers.usage_counts(_usage(self.usage))
        text = "".join(self.text)
        message = {"role": "assistant", "content": text}
        cache.store(
            self.settings,
            self.request,
            cache.CachedAnswer(
                text=text, squad=candidate.squad, deployment=candidate.deployment,
                model=deployment.model, tokens_in=tokens_in, tokens_out=tokens_out,
                finish_reason=self.finish_reason,
                choices=[{"index": 0, "message": message, "finish_reason": self.finish_reason}],
                usage=answers.compact(self.usage),
                upstream_model=self.upstream_model, raw_message=message,
            ),
        )  # fmt: skip


def _usage(usage: Any) -> Any:
    """A usage block for LiteLLM's calculator (a cached answer stores plain dicts)."""
    if not isinstance(usage, dict):
        return usage
    from litellm.types.utils import Usage

    return Usage(**usage)


def _close_later(upstream: Any) -> None:
    """Close the provider's stream so it stops generating (billing) for nobody."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    loop.create_task(upstream.aclose())


def cached_chunks(hit: cache.CachedAnswer, request_id: str, include_usage: bool) -> list[Any]:
    """A cached answer replayed as a stream: role, content, finish, and usage when asked."""
    base = {"id": f"chatcmpl-{request_id}", "created": int(time.time()),
            "model": hit.upstream_model or hit.model}  # fmt: skip
    chunks: list[Any] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": hit.text}}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": hit.finish_reason}]},
    ]
    if include_usage:
        chunks.append({**base, "choices": [], "usage": hit.usage})
    return chunks


async def astream(
    settings: Settings, request: CompletionRequest, context: CallContext | None = None
) -> CompletionStream:
    """Start a streamed answer: the cache, or the first deployment that sends a chunk."""
    started = time.perf_counter()
    context = context or CallContext()
    config = load_squads(settings)
    record = await asyncio.to_thread(plan, settings, config, request, uuid.uuid4().hex)
    if cache.cacheable(settings, config.router, request):
        hit = await asyncio.to_thread(cache.lookup, settings, request)
        if hit is not None:
            await asyncio.to_thread(
                answers.from_cache, settings, config, record, context, hit, started
            )
            replay = iter(cached_chunks(hit, record.request_id, request.include_usage))
            stream = CompletionStream(settings, config, request, record, next(replay))
            stream.upstream = _replay(replay)
            return stream

    async def call(
        candidate: Candidate,
        deployment: Deployment,
        target: llm.Endpoint,
        ticket: books.Ticket,
        timeout_s: float,
    ) -> CompletionStream:
        upstream = None
        try:
            async with asyncio.timeout(timeout_s):
                upstream = await llm.astream(target, request, timeout_s)
                first = await anext(upstream)
        except BaseException:
            if upstream is not None:
                await upstream.aclose()  # type: ignore[attr-defined]
            raise
        candidate.status = "chosen"
        record.chosen = f"{candidate.squad}/{candidate.deployment}"
        return CompletionStream(
            settings, config, request, record, first, upstream, ticket, candidate,
            config.router.timeout_s,
        )  # fmt: skip

    return await Attempts(settings, config, record, context, started).run(call)


async def _replay(chunks: Any) -> AsyncIterator[Any]:
    for chunk in chunks:
        yield chunk
