"""`sophia sandbox serve | mutate | counts` from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sophia_cli.sandbox.api.app import bind


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """`sophia sandbox serve --port 0 --scale 0.1` in a child process, and its exports."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sophia_cli",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--scale",
            "0.1",
            "--today",
            "2026-03-31",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdout is not None
    exports: dict[str, str] = {}
    for _ in range(10):
        line = proc.stdout.readline()
        assert line.startswith("export "), line
        name, _, value = line[len("export ") :].strip().partition("=")
        exports[name] = value
    try:
        yield proc, exports
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _port(exports: dict[str, str]) -> str:
    return exports["SOPHIA_SANDBOX_URL"].rsplit(":", 1)[1]


def test_serve_prints_exports_first_then_serves_the_apis(
    served: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, exports = served
    assert set(exports) >= {
        "SLACK_API_BASE",
        "ASANA_API_BASE",
        "HUBSPOT_API_BASE",
        "GONG_API_BASE",
        "SLACK_BOT_TOKEN",
        "ASANA_PAT_TOKEN",
        "HUBSPOT_API_KEY",
        "GONG_ACCESS_KEY",
        "GONG_ACCESS_KEY_SECRET",
    }
    for _ in range(100):
        try:
            response = httpx.get(
                exports["HUBSPOT_API_BASE"] + "/crm/v3/owners",
                headers={"Authorization": f"Bearer {exports['HUBSPOT_API_KEY']}"},
            )
            break
        except httpx.TransportError:
            time.sleep(0.05)
    assert response.status_code == 200 and response.json()["results"]


def test_serve_stops_cleanly_on_ctrl_c(
    served: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, exports = served
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0
    assert proc.stderr is not None and "sandbox stopped" in proc.stderr.read()


def test_mutate_prints_a_table_of_changes(
    served: tuple[subprocess.Popen[str], dict[str, str]], sophia: Any
) -> None:
    _, exports = served
    result = _retry(sophia, "sandbox", "mutate", "--port", _port(exports))
    assert result.exit_code == 0, result.stderr
    # Piped, the title goes to stderr and the rows (headers first) to stdout.
    assert "mutation 1" in result.stderr and "hubspot.deals" in result.stdout


def test_mutate_json_lists_the_changed_ids(
    served: tuple[subprocess.Popen[str], dict[str, str]], sophia: Any
) -> None:
    _, exports = served
    result = _retry(sophia, "sandbox", "mutate", "--port", _port(exports), "--count", "2", "--json")
    body = json.loads(result.stdout)
    assert [m["mutation"] for m in body["mutations"]] == [1, 2]
    assert body["mutations"][0]["changes"]["asana.tasks"]["deleted"]


def test_counts_json_matches_the_control_api(
    served: tuple[subprocess.Popen[str], dict[str, str]], sophia: Any
) -> None:
    _, exports = served
    result = _retry(sophia, "sandbox", "counts", "--port", _port(exports), "--json")
    served_counts = httpx.get(exports["SOPHIA_SANDBOX_URL"] + "/_sandbox/counts").json()
    assert json.loads(result.stdout) == served_counts


def test_mutate_without_a_sandbox_is_one_clear_error(sophia: Any) -> None:
    sock = bind(0)
    port = str(sock.getsockname()[1])
    sock.close()
    result = sophia("sandbox", "mutate", "--port", port)
    assert result.exit_code != 0
    assert "no sandbox answers" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_a_port_in_use(sophia: Any) -> None:
    sock = bind(0)
    try:
        result = sophia("sandbox", "serve", "--port", str(sock.getsockname()[1]), "--scale", "0.05")
    finally:
        sock.close()
    assert result.exit_code != 0 and "not free" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--rate-limits", "turbo"],
        ["--scale", "0"],
        ["--today", "31/03/2026"],
        ["--scenario", "chaos"],
    ],
)
def test_serve_rejects_bad_options(sophia: Any, args: list[str]) -> None:
    result = sophia("sandbox", "serve", "--port", "0", *args)
    assert result.exit_code == 2 and result.stderr.strip()


def _retry(sophia: Any, *args: str) -> Any:
    """The child may still be starting its server right after printing the exports."""
    for _ in range(100):
        result = sophia(*args)
        if result.exit_code == 0 or "no sandbox answers" not in result.stderr:
            return result
        time.sleep(0.05)
    return result
