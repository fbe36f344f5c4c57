"""The sandbox's own endpoints under /_sandbox: counts, expected rows, mutate, faults, log."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sophia_cli.sandbox.faults import validate_fault
from sophia_cli.sandbox.state import Sandbox


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object body of a control request ({} when empty)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _bad(message: str, status: int = 400) -> JSONResponse:
    """A 400 (or `status`) with the sandbox's error shape."""
    return JSONResponse({"error": {"code": "bad_request", "message": message}}, status_code=status)


def routes(sb: Sandbox) -> list[Route]:
    """Control routes; never rate limited, never faulted, never logged."""

    async def health(request: Request) -> Response:
        return JSONResponse(sb.health())

    async def counts(request: Request) -> Response:
        return JSONResponse(sb.counts())

    async def expected(request: Request) -> Response:
        table = request.path_params["table"]
        try:
            rows = sb.expected(table)
        except KeyError:
            return _bad(f"unknown table {table!r}", 404)
        from sophia_cli.sandbox.expected import KEYS

        return JSONResponse({"table": table, "key": list(KEYS[table]), "rows": rows})

    async def mutate(request: Request) -> Response:
        try:
            count = int((await _body(request)).get("count", 1))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        if not 1 <= count <= 100:
            return _bad("count must be between 1 and 100")
        results = [sb.mutate() for _ in range(count)]
        return JSONResponse(results[0] if count == 1 else {"mutations": results})

    async def late_reply(request: Request) -> Response:
        try:
            age = float((await _body(request)).get("age_hours", 24))
            return JSONResponse(sb.late_reply(age))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))

    async def slack_thread(request: Request) -> Response:
        try:
            return JSONResponse(sb.change_thread(str((await _body(request)).get("kind", ""))))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))

    async def asana_task(request: Request) -> Response:
        try:
            return JSONResponse(sb.change_asana(str((await _body(request)).get("kind", ""))))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))

    async def asana_expire_tokens(request: Request) -> Response:
        return JSONResponse({"expired": sb.expire_asana_tokens()})

    async def requests_log(request: Request) -> Response:
        if request.method == "DELETE":
            sb.log.clear()
            return JSONResponse({"cleared": True})
        since = request.query_params.get("since")
        entries = sb.log.query(request.query_params.get("api"), float(since) if since else None)
        return JSONResponse({"requests": entries})

    async def limits(request: Request) -> Response:
        return JSONResponse({"mode": sb.limiter.mode, "limits": sb.limiter.describe()})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            sb.faults.clear()
            return JSONResponse({"cleared": True})
        if request.method == "POST":
            try:
                sb.faults.add(validate_fault(await _body(request)))
            except (ValueError, TypeError) as exc:
                return _bad(str(exc))
        return JSONResponse({"pending": sb.faults.pending()})

    return [
        Route("/health", health),
        Route("/counts", counts),
        Route("/expected/{table}", expected),
        Route("/mutate", mutate, methods=["POST"]),
        Route("/late_reply", late_reply, methods=["POST"]),
        Route("/slack_thread", slack_thread, methods=["POST"]),
        Route("/asana_task", asana_task, methods=["POST"]),
        Route("/asana_expire_tokens", asana_expire_tokens, methods=["POST"]),
        Route("/requests", requests_log, methods=["GET", "DELETE"]),
        Route("/limits", limits),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
    ]
