"""Sandbox figures: dataset build time, request latency per fake, and a full paged read.

Run: .venv/bin/python bench/sandbox.py   (about 20 s on the 2-core machine)
The baseline is a bare Starlette app on the same uvicorn setup, measured in the same run.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sophia_cli.sandbox.api.app import bind, start_sandbox
from sophia_cli.sandbox.dataset import build_dataset

TODAY = date(2026, 3, 31)
REQUESTS = 300


def per_request_ms(client: httpx.Client, method: str, url: str, **kw: Any) -> float:
    for _ in range(10):
        client.request(method, url, **kw)
    started = time.perf_counter()
    for _ in range(REQUESTS):
        client.request(method, url, **kw).raise_for_status()
    return (time.perf_counter() - started) / REQUESTS * 1000


def baseline_ms() -> float:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    sock = bind(0)
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[Route("/", hello)]), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    with httpx.Client() as client:
        result = per_request_ms(client, "GET", f"http://127.0.0.1:{sock.getsockname()[1]}/")
    server.should_exit = True
    thread.join()
    return result


def full_read(env: dict[str, str]) -> tuple[int, int]:
    """Page every HubSpot object and every Asana task the way a sync does: (pages, records)."""
    pages = records = 0
    hub = httpx.Client(
        base_url=env["HUBSPOT_API_BASE"],
        headers={"Authorization": f"Bearer {env['HUBSPOT_API_KEY']}"},
    )
    for kind in ("companies", "contacts", "deals"):
        after = None
        while True:
            body = hub.get(
                f"/crm/v3/objects/{kind}",
                params={"limit": 100, **({"after": after} if after else {})},
            ).json()
            pages, records = pages + 1, records + len(body["results"])
            if "paging" not in body:
                break
            after = body["paging"]["next"]["after"]
    asana = httpx.Client(
        base_url=env["ASANA_API_BASE"],
        headers={"Authorization": f"Bearer {env['ASANA_PAT_TOKEN']}"},
    )
    projects = asana.get("/projects", params={"workspace": "1200000000000001"}).json()["data"]
    for project in projects:
        offset = None
        while True:
            body = asana.get(
                "/tasks",
                params={
                    "project": project["gid"],
                    "limit": 100,
                    **({"offset": offset} if offset else {}),
                },
            ).json()
            pages, records = pages + 1, records + len(body["data"])
            if body["next_page"] is None:
                break
            offset = body["next_page"]["offset"]
    return pages, records


def main() -> None:
    for scale in (0.1, 1.0):
        started = time.perf_counter()
        build_dataset(seed=7, scale=scale, today=TODAY)
        print(f"dataset build, scale {scale:>3}: {time.perf_counter() - started:6.2f} s")
    base = baseline_ms()
    print(f"baseline bare Starlette GET:      {base:6.2f} ms/request")
    with start_sandbox(seed=7, scale=1.0, today=TODAY) as sb:
        env = sb.env
        auth = {"Authorization": f"Bearer {env['SLACK_BOT_TOKEN']}"}
        with httpx.Client(headers=auth) as client:
            slack = per_request_ms(client, "GET", env["SLACK_API_BASE"] + "/auth.test")
        hub_auth = {"Authorization": f"Bearer {env['HUBSPOT_API_KEY']}"}
        with httpx.Client(headers=hub_auth) as client:
            deals = per_request_ms(
                client,
                "GET",
                env["HUBSPOT_API_BASE"] + "/crm/v3/objects/deals",
                params={"limit": 100},
            )
            search = per_request_ms(
                client,
                "POST",
                env["HUBSPOT_API_BASE"] + "/crm/v3/objects/deals/search",
                json={"limit": 200},
            )
        for name, value in (
            ("slack auth.test", slack),
            ("hubspot list 100 deals", deals),
            ("hubspot search 200 deals", search),
        ):
            print(f"{name + ':':<34}{value:6.2f} ms/request ({value / base:4.1f}x baseline)")
        started = time.perf_counter()
        pages, records = full_read(env)
        elapsed = time.perf_counter() - started
        print(
            f"full read, scale 1 (HubSpot+Asana): {records} records, {pages} pages in "
            f"{elapsed:.2f} s = {records / elapsed:,.0f} records/s"
        )


if __name__ == "__main__":
    main()
