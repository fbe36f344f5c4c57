"""A fake OpenAI-compatible provider on 127.0.0.1 that keeps its own bill, for tests and benches.

It speaks what our gateway and the official clients use: `POST /v1/chat/completions` (JSON or
SSE with `stream_options.include_usage`), `POST /v1/embeddings` (float or base64), and the
organisation usage report `GET /v1/organization/usage/completions` (admin key). It is an
asyncio server (uvicorn in a thread), so a slow answer holds no thread and a bench can keep
thousands of calls in flight.

Behaviour is scripted per model (`POST /_script` from another process, or `script()`):
steps are consumed one call at a time, then the default applies. A step may set `status`
(200, 429, 5xx, 400, 401), `retry_after`, `delay_s` (before answering: the provider is still
generating, and bills the call even if the caller gave up), `chunk_delay_s`, `prompt_tokens`,
`completion_tokens`, `cached_tokens`, `text`, `finish_reason`, `tool_calls`, `cut_after`
(a stream drops the connection after that many chunks) and `no_usage` (a stream never sends
usage). A step with `mix: [{"weight": w, ...step}, ...]` picks one of its steps at random per
call (seeded), for chaos runs with many concurrent callers. Prompt tokens default to a
deterministic count of the request (4 characters a token), completion tokens are capped by
`max_tokens` (then `finish_reason` is "length").

The bill: every generation is a line of `ledger` at the provider's own prices (`prices`,
USD per million tokens), whether or not the caller stayed to read it, exactly like a real
invoice. Errors (429, 5xx, 4xx) are not billed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import random
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

DEFAULT_STEP: dict[str, Any] = {"status": 200, "completion_tokens": 5}
DEFAULT_PRICE = (1.0, 2.0, 0.5)  # input, output, cached input: USD per million tokens
ADMIN_KEY = "sk-admin-fake"


class FakeState:
    """Scripts, counters, last request bodies and the bill, shared by handlers and tests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[str, list[dict[str, Any]]] = {}
        self.defaults: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self.last_body: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, tuple[float, float, float]] = {}
        self.ledger: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.random = random.Random(7)

    def next_step(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls[model] = self.calls.get(model, 0) + 1
            self.last_body[model] = body
            queue = self.steps.get(model) or []
            step = queue.pop(0) if queue else self.defaults.get(model, {})
            if "mix" in step:
                options = step["mix"]
                step = self.random.choices(options, [o.get("weight", 1) for o in options])[0]
            return {**DEFAULT_STEP, **{k: v for k, v in step.items() if k != "weight"}}

    def bill(self, model: str, tokens_in: int, tokens_out: int, cached: int, kind: str) -> None:
        price_in, price_out, price_cached = self.prices.get(model, DEFAULT_PRICE)
        cost = (
            (tokens_in - cached) * price_in + cached * price_cached + tokens_out * price_out
        ) / 1e6
        with self.lock:
            self.ledger.append(
                {
                    "at": time.time(),
                    "model": model,
                    "kind": kind,
                    "prompt_tokens": tokens_in,
                    "completion_tokens": tokens_out,
                    "cached_tokens": cached,
                    "cost_usd": cost,
                }
            )

    def reset(self) -> None:
        with self.lock:
            self.random = random.Random(7)
            self.steps.clear()
            self.defaults.clear()
            self.calls.clear()
            self.last_body.clear()
            self.ledger.clear()
            self.peak_in_flight = 0


def count_tokens(value: Any) -> int:
    """The provider's tokenizer: 4 characters a token (never more tokens than UTF-8 bytes)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return max(1, math.ceil(len(text) / 4))


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


def build_app(state: FakeState) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization", "") not in ("", "Bearer ")

    async def chat(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse(_error("missing api key", "invalid_request_error"), 401)
        body = await request.json()
        model = str(body.get("model", ""))
        step = state.next_step(model, body)
        with state.lock:
            state.in_flight += 1
            state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
        try:
            await asyncio.sleep(float(step.get("delay_s", 0)))
        finally:
            with state.lock:
                state.in_flight -= 1
        status = int(step["status"])
        if status == 429:
            headers = {"Retry-After": str(step.get("retry_after", 1))}
            return JSONResponse(_error("Rate limit reached", "rate_limit_exceeded"), 429, headers)
        if status != 200:
            return JSONResponse(_error(f"scripted {status}", "server_error"), status)
        answer = _answer(model, body, step)
        usage = answer["usage"]
        cached = usage["prompt_tokens_details"]["cached_tokens"]
        state.bill(model, usage["prompt_tokens"], usage["completion_tokens"], cached, "chat")
        if body.get("stream"):
            return StreamingResponse(_sse(answer, body, step), media_type="text/event-stream")
        return JSONResponse(answer)

    async def embeddings(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse(_error("missing api key", "invalid_request_error"), 401)
        body = await request.json()
        model = str(body.get("model", ""))
        step = state.next_step(model, body)
        if int(step["status"]) != 200:
            return JSONResponse(
                _error(f"scripted {step['status']}", "server_error"), step["status"]
            )
        inputs = body.get("input")
        items = inputs if isinstance(inputs, list) else [inputs]
        dims = int(body.get("dimensions") or 8)
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(str(item), dims, body)}
            for i, item in enumerate(items)
        ]
        tokens = sum(count_tokens(str(item)) for item in items)
        state.bill(model, tokens, 0, 0, "embedding")
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def usage_report(request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {ADMIN_KEY}":
            return JSONResponse(_error("admin key required", "invalid_request_error"), 401)
        start = int(request.query_params.get("start_time", "0"))
        end = int(request.query_params.get("end_time", str(2**40)))
        return JSONResponse(_usage_page(state, start, end))

    async def script(request: Request) -> Response:
        body = await request.json()
        with state.lock:
            state.steps[body["model"]] = list(body.get("steps", []))
            if "default" in body:
                state.defaults[body["model"]] = dict(body["default"])
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def calls(request: Request) -> Response:
        with state.lock:
            return JSONResponse(dict(state.calls))

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/chat/completions", chat, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/embeddings", embeddings, methods=["POST"]),
            Route("/v1/organization/usage/completions", usage_report, methods=["GET"]),
            Route("/_script", script, methods=["POST"]),
            Route("/_reset", reset, methods=["POST"]),
            Route("/_calls", calls, methods=["GET"]),
        ]
    )


def _answer(model: str, body: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """A chat.completion whose usage follows the request and the step."""
    tokens_in = int(step.get("prompt_tokens") or count_tokens(body.get("messages", [])))
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    wanted = int(step["completion_tokens"])
    tokens_out = min(wanted, int(limit)) if limit else wanted
    finish = step.get("finish_reason") or ("length" if tokens_out < wanted else "stop")
    n = int(body.get("n") or 1)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": step.get("text", f"answer from {model}"),
    }
    if step.get("tool_calls"):
        message = {"role": "assistant", "content": None, "tool_calls": step["tool_calls"]}
        finish = step.get("finish_reason") or "tool_calls"
    choices = [
        {"index": i, "message": message, "finish_reason": finish, "logprobs": None}
        for i in range(n)
    ]
    cached = min(int(step.get("cached_tokens", 0)), tokens_in)
    return {
        "id": f"chatcmpl-fake{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": f"fp_seed_{body.get('seed')}",
        "choices": choices,
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out * n,
            "total_tokens": tokens_in + tokens_out * n,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


async def _sse(
    answer: dict[str, Any], body: dict[str, Any], step: dict[str, Any]
) -> AsyncIterator[bytes]:
    """The answer as chat.completion.chunk events, the usage chunk last when asked for."""
    base = {k: answer[k] for k in ("id", "created", "model", "system_fingerprint")}
    base["object"] = "chat.completion.chunk"
    text = answer["choices"][0]["message"]["content"] or ""
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)] or [""]
    chunks = []
    for choice in answer["choices"]:
        index = choice["index"]
        chunks.append(
            {"index": index, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
        )
        message = choice["message"]
        if message.get("tool_calls"):
            calls = [{"index": i, **call} for i, call in enumerate(message["tool_calls"])]
            chunks.append({"index": index, "delta": {"tool_calls": calls}, "finish_reason": None})
        else:
            chunks += [
                {"index": index, "delta": {"content": p}, "finish_reason": None} for p in pieces
            ]
        chunks.append({"index": index, "delta": {}, "finish_reason": choice["finish_reason"]})
    wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    cut_after = step.get("cut_after")
    for sent, choice in enumerate(chunks):
        if cut_after is not None and sent >= int(cut_after):
            raise ConnectionResetError("scripted cut")
        await asyncio.sleep(float(step.get("chunk_delay_s", 0)))
        extra = {"usage": None} if wants_usage else {}
        yield _event({**base, "choices": [choice], **extra})
    if wants_usage and not step.get("no_usage"):
        yield _event({**base, "choices": [], "usage": answer["usage"]})
    yield b"data: [DONE]\n\n"


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def _vector(text: str, dims: int, body: dict[str, Any]) -> Any:
    digest = hashlib.sha256(text.encode()).digest()
    values = [(digest[i % len(digest)] - 128) / 128 for i in range(dims)]
    if body.get("encoding_format") == "base64":
        return base64.b64encode(struct.pack(f"<{dims}f", *values)).decode()
    return values


def _usage_page(state: FakeState, start: int, end: int) -> dict[str, Any]:
    """OpenAI's usage report, one bucket per UTC day grouped by model."""
    buckets: dict[int, dict[str, dict[str, int]]] = {}
    with state.lock:
        lines = [line for line in state.ledger if start <= line["at"] < end]
    for line in lines:
        day = int(line["at"] // 86400 * 86400)
        row = buckets.setdefault(day, {}).setdefault(
            line["model"],
            {
                "input_tokens": 0,
                "output_tokens": 0,
                "input_cached_tokens": 0,
                "num_model_requests": 0,
            },
        )
        row["input_tokens"] += line["prompt_tokens"]
        row["output_tokens"] += line["completion_tokens"]
        row["input_cached_tokens"] += line["cached_tokens"]
        row["num_model_requests"] += 1
    data = [
        {
            "object": "bucket",
            "start_time": day,
            "end_time": day + 86400,
            "results": [
                {"object": "organization.usage.completions.result", "model": model, **row}
                for model, row in sorted(models.items())
            ],
        }
        for day, models in sorted(buckets.items())
    ]
    return {"object": "page", "data": data, "has_more": False, "next_page": None}


class FakeServer:
    """The provider on a free loopback port; `url` is the OpenAI-style base (ending in /v1)."""

    def __init__(self) -> None:
        self.state = FakeState()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self._server: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            build_app(self.state),
            log_level="error",
            access_log=False,
            lifespan="off",
            backlog=4096,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._server.run(sockets=[self._socket])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def start(self) -> FakeServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not (self._server is not None and self._server.started):
            if time.monotonic() > deadline:
                raise RuntimeError("the fake provider did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self.thread.join(timeout=10)
        self._socket.close()

    def script(
        self, model: str, *steps: dict[str, Any], default: dict[str, Any] | None = None
    ) -> None:
        with self.state.lock:
            self.state.steps[model] = list(steps)
            if default is not None:
                self.state.defaults[model] = dict(default)

    def price(
        self,
        model: str,
        input_per_mtok: float,
        output_per_mtok: float,
        cached_per_mtok: float | None = None,
    ) -> None:
        """The provider's list price for a model (what the bill charges)."""
        cached = cached_per_mtok if cached_per_mtok is not None else input_per_mtok
        with self.state.lock:
            self.state.prices[model] = (input_per_mtok, output_per_mtok, cached)

    def calls(self, model: str) -> int:
        with self.state.lock:
            return self.state.calls.get(model, 0)

    def last_body(self, model: str) -> dict[str, Any]:
        with self.state.lock:
            return dict(self.state.last_body.get(model, {}))

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Wait until the provider has billed every generation it started (a client that timed
        out does not stop the provider: it finishes, and bills, later)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.state.lock:
                if self.state.in_flight == 0:
                    return
            time.sleep(0.05)

    def bill_usd(self, kind: str | None = None) -> float:
        """The invoice so far: what the provider charged for every generation."""
        with self.state.lock:
            return sum(
                line["cost_usd"] for line in self.state.ledger if kind in (None, line["kind"])
            )

    def bill_lines(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.ledger)
