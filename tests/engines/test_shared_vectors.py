"""The embedded vector store is one Milvus Lite server shared by every sophia process.

In file mode a second process failed with DataDirLockedError; these run searches in several
processes while a sync indexes, start it from several processes at once, and stop it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from engines_helpers import free_port

from sophia_cli.sandbox.api.app import SandboxHandle
from sophia_cli.store import embedded_milvus

SEARCHER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from sophia_cli.core.search.search import search
    from sophia_cli.core.settings import load_settings

    done = Path(sys.argv[1])
    settings = load_settings()
    during = 0
    while not done.exists():
        search(settings, "price", limit=5)
        during += 1
        time.sleep(0.2)
    final = search(settings, "price", limit=5)
    print(json.dumps({"during": during, "final_hits": len(final.hits)}))
    """
)


def _python(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def indexing_env(
    stores_env: dict[str, str], sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {**sandbox.env, "SYNC_RATE_LIMITS": "off", "SYNC_TEXT_INDEX": "true"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def test_searches_in_three_processes_run_while_a_sync_indexes(
    indexing_env: None, sandbox: SandboxHandle, isolated_env: Path, tmp_path: Path
) -> None:
    done = tmp_path / "sync-done"
    # The sync's first Gong request is slow, so the searchers overlap the indexing.
    sandbox.add_fault(api="gong", kind="slow", delay_s=3, count=1)
    sync = _python("-m", "sophia_cli", "sync", "--json")
    searchers = [_python("-c", SEARCHER, str(done)) for _ in range(3)]
    sync_out, sync_err = sync.communicate(timeout=300)
    done.touch()
    results = [p.communicate(timeout=120) for p in searchers]
    assert sync.returncode == 0, sync_err
    report = json.loads(sync_out)
    assert all(s["status"] == "success" for s in report["sources"]), report
    assert sum(st["indexed"] for s in report["sources"] for st in s["streams"]) > 0
    for process, (out, err) in zip(searchers, results, strict=True):
        assert process.returncode == 0, err
        counts = json.loads(out)
        assert counts["during"] >= 1 and counts["final_hits"] > 0, counts
    assert "DataDirLocked" not in sync_err + "".join(err for _, err in results)
    assert embedded_milvus.state(isolated_env).running


def test_processes_starting_it_at_once_share_one_server(isolated_env: Path) -> None:
    program = (
        "from sophia_cli.core.settings import load_settings;"
        "from sophia_cli.store import milvus;"
        "print(milvus.resolve_uri(load_settings()))"
    )
    starters = [_python("-c", program) for _ in range(3)]
    uris = {p.communicate(timeout=180)[0].strip() for p in starters}
    assert len(uris) == 1 and next(iter(uris)).startswith("http://127.0.0.1:")
    current = embedded_milvus.state(isolated_env)
    assert current.running and current.uri in uris


def test_db_stop_stops_the_shared_vector_store(
    isolated_env: Path, sophia: Callable[..., Any]
) -> None:
    uri = embedded_milvus.ensure_running(isolated_env)
    report = json.loads(sophia("db", "stop", "--json").stdout)
    assert "vectors" in report["stopped"]
    assert not embedded_milvus.state(isolated_env).running
    port = int(uri.rsplit(":", 1)[1])
    import socket

    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_db_status_does_not_start_the_stopped_vector_store(
    isolated_env: Path, sophia: Callable[..., Any]
) -> None:
    report = json.loads(sophia("db", "status", "--json").stdout)
    vectors = report["stores"][2]
    assert vectors["store"] == "vectors" and not vectors["reachable"]
    assert "stopped" in vectors["detail"]
    assert not embedded_milvus.state(isolated_env).running


def test_milvus_uri_still_points_elsewhere_without_starting_anything(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sophia_cli.core.settings import load_settings
    from sophia_cli.store import milvus

    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MILVUS_URI", uri)
    assert milvus.resolve_uri(load_settings()) == uri
    assert not embedded_milvus.state(isolated_env).running


def _exits_within(pid: int, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not embedded_milvus._alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_the_server_exits_by_itself_when_its_home_is_deleted(tmp_path: Path) -> None:
    import shutil

    home = tmp_path / "gone-home"
    embedded_milvus.ensure_running(home)
    pid = embedded_milvus.state(home).pid
    assert pid is not None
    shutil.rmtree(home)
    assert _exits_within(pid, 10), "the orphaned server kept running"


def test_the_server_exits_when_the_process_it_was_told_to_follow_ends(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    monkeypatch.setenv(embedded_milvus.EXIT_WITH_VARIABLE, str(supervisor.pid))
    embedded_milvus.ensure_running(isolated_env)
    pid = embedded_milvus.state(isolated_env).pid
    assert pid is not None and embedded_milvus.state(isolated_env).running
    supervisor.kill()
    supervisor.wait()
    assert _exits_within(pid, 10), "the server outlived the process it follows"
