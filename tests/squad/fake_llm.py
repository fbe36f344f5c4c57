"""A fake OpenAI-compatible server on 127.0.0.1 for squad tests and the benchmark.

`POST /v1/chat/completions` answers like OpenAI (with `usage`). Behaviour is scripted per
model name through `POST /_script` (so subprocesses and the test share one script):
`{"model": "cheap", "steps": [{"status": 429, "retry_after": 30}], "default": {...}}`.
Steps are consumed one call at a time; after them the default applies. A step or default
may set `status` (200, 429, 500, 400, 401), `retry_after`, `delay_s` (sleep first, use it
for timeouts), `prompt_tokens`, `completion_tokens` and `text`. `GET /_calls` returns how
many calls each model received; `POST /_reset` clears script and counters.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_STEP: dict[str, Any] = {"status": 200, "prompt_tokens": 10, "completion_tokens": 5}


class FakeState:
    """Scripts and call counters, shared by the handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[str, list[dict[str, Any]]] = {}
        self.defaults: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self.last_body: dict[str, dict[str, Any]] = {}

    def next_step(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.calls[model] = self.calls.get(model, 0) + 1
            self.last_body[model] = body
            queue = self.steps.get(model) or []
            if queue:
                return queue.pop(0)
            return self.defaults.get(model, DEFAULT_STEP)


class Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        if self.path == "/_calls":
            with self.server.state.lock:
                self._json(200, dict(self.server.state.calls))
            return
        self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = self._body()
        state = self.server.state
        if self.path == "/_script":
            with state.lock:
                state.steps[body["model"]] = list(body.get("steps", []))
                if "default" in body:
                    state.defaults[body["model"]] = {**DEFAULT_STEP, **body["default"]}
            self._json(200, {"ok": True})
        elif self.path == "/_reset":
            with state.lock:
                state.steps.clear(), state.defaults.clear(), state.calls.clear()
            self._json(200, {"ok": True})
        elif self.path in ("/v1/chat/completions", "/chat/completions"):
            self._complete(body)
        else:
            self._json(404, {"error": {"message": "not found"}})

    def _complete(self, body: dict[str, Any]) -> None:
        if self.headers.get("Authorization", "") in ("", "Bearer "):
            self._json(401, _error("missing api key", "invalid_request_error"))
            return
        model = str(body.get("model", ""))
        step = {**DEFAULT_STEP, **self.server.state.next_step(model, body)}
        time.sleep(float(step.get("delay_s", 0)))
        status = int(step["status"])
        if status == 429:
            headers = {"Retry-After": str(step.get("retry_after", 1))}
            self._json(429, _error("Rate limit reached", "rate_limit_exceeded"), headers)
        elif status != 200:
            self._json(status, _error(f"scripted {status}", "server_error"))
        else:
            self._json(200, _completion(model, step))


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "param": None, "code": code}}


def _completion(model: str, step: dict[str, Any]) -> dict[str, Any]:
    tokens_in, tokens_out = int(step["prompt_tokens"]), int(step["completion_tokens"])
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": step.get("text", f"answer from {model}"),
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    }


class FakeServer(ThreadingHTTPServer):
    """The server with its state; `url` is the OpenAI-style base (ending in /v1)."""

    daemon_threads = True
    request_queue_size = 512  # 200 concurrent callers must not be refused at connect

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = FakeState()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def script(
        self, model: str, *steps: dict[str, Any], default: dict[str, Any] | None = None
    ) -> None:
        with self.state.lock:
            self.state.steps[model] = list(steps)
            if default is not None:
                self.state.defaults[model] = {**DEFAULT_STEP, **default}

    def calls(self, model: str) -> int:
        with self.state.lock:
            return self.state.calls.get(model, 0)
