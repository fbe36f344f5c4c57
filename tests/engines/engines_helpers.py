"""Real engines started by the tests: PgBouncer in transaction mode, a Redis Cluster.

Each runs on free loopback ports with a generated configuration under a temporary folder,
and is stopped by the fixture that started it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require(program: str, package: str) -> str:
    """The program's path; a clear failure naming the apt package when it is missing."""
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin")
    if found is None:
        raise RuntimeError(f"{program} is missing: apt-get install -y {package} (.ci/run does)")
    return found


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"engine exited at start: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"engine did not listen on {port}: {tail}")


@dataclass(frozen=True)
class Bouncer:
    """A PgBouncer in transaction mode in front of the test PostgreSQL server."""

    port: int
    pool_size: int

    def url_for(self, url: str) -> str:
        """The same database reached through the pooler."""
        params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
        params.update(host="127.0.0.1", port=str(self.port))
        return make_conninfo(**params)


@contextmanager
def pgbouncer(server_url: str, *, pool_size: int = 4) -> Iterator[Bouncer]:
    """Start PgBouncer (transaction pooling, `pool_size` server connections per database)."""
    binary = require("pgbouncer", "pgbouncer")
    server = conninfo_to_dict(server_url)
    user = str(server.get("user") or "postgres")
    folder = Path(tempfile.mkdtemp(prefix="sophia-pgb-"))
    folder.chmod(0o755)  # PgBouncer drops root for an unprivileged user, who must read this
    port = free_port()
    (folder / "userlist.txt").write_text(f'"{user}" "{server.get("password") or ""}"\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.get('host') or '127.0.0.1'} port={server.get('port') or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'userlist.txt'}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmin_pool_size = 0\n"
        "max_client_conn = 500\nserver_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits\n"
        + ("user = postgres\n" if os.geteuid() == 0 else "")
    )
    for entry in folder.iterdir():
        entry.chmod(0o644)
    log = folder / "pgbouncer.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [binary, str(folder / "pgbouncer.ini")], stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_port(port, process, log)
        yield Bouncer(port, pool_size)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def in_transaction_mode(bouncer_url: str) -> bool:
    """Whether the pooler really hands one client's transactions to different sessions.

    Two clients through a one-connection pool: a session setting made by the first is seen
    by the second, which only happens when server sessions are shared between clients.
    """
    with psycopg.connect(bouncer_url, autocommit=True, prepare_threshold=None) as first:
        first.execute("SET work_mem = '7777kB'")
        with psycopg.connect(bouncer_url, autocommit=True, prepare_threshold=None) as second:
            row = second.execute("SHOW work_mem").fetchone()
    return row is not None and row[0] == "7777kB"


def _free_cluster_port() -> int:
    """A port that is free together with its cluster bus port (port + 10000)."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


@dataclass(frozen=True)
class Cluster:
    """A three-master Redis Cluster on loopback."""

    ports: tuple[int, ...]

    @property
    def url(self) -> str:
        """REDIS_URL for sophia: any one node, flagged as a cluster."""
        return f"redis://127.0.0.1:{self.ports[0]}/0?cluster=true"


@contextmanager
def redis_cluster(masters: int = 3) -> Iterator[Cluster]:
    """Start `masters` redis-server nodes with cluster mode on, and create the cluster."""
    server = require("redis-server", "redis-server")
    cli = require("redis-cli", "redis-tools")
    folder = Path(tempfile.mkdtemp(prefix="sophia-rc-"))
    ports = tuple(_free_cluster_port() for _ in range(masters))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            node = folder / str(port)
            node.mkdir()
            log = node / "redis.log"
            with log.open("wb") as sink:
                processes.append(
                    subprocess.Popen(
                        [
                            server,
                            "--port",
                            str(port),
                            "--bind",
                            "127.0.0.1",
                            "--cluster-enabled",
                            "yes",
                            "--cluster-config-file",
                            "nodes.conf",
                            "--cluster-node-timeout",
                            "5000",
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                            "--dir",
                            str(node),
                        ],
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                    )  # fmt: skip
                )
            _wait_for_port(port, processes[-1], log)
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        _wait_for_cluster_ok(cli, ports)
        yield Cluster(ports)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_cluster_ok(cli: str, ports: tuple[int, ...]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = [
            subprocess.run(
                [cli, "-p", str(port), "cluster", "info"], capture_output=True, text=True
            ).stdout
            for port in ports
        ]
        if all("cluster_state:ok" in state for state in states):
            return
        time.sleep(0.2)
    raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
