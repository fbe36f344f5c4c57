"""Engine fixtures: a real PgBouncer (transaction mode) in front of the test PostgreSQL."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engines_helpers import Bouncer, Cluster, pgbouncer, redis_cluster  # noqa: E402

from sophia_cli.sandbox.api.app import SandboxHandle, start_sandbox  # noqa: E402


@pytest.fixture
def bouncer(pg_admin_url: str) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode with six server connections per database.

    Enough for a full sync (each running source pins one for its lock transaction, and the
    page transactions need more), few enough that sessions change hands between clients.
    """
    with pgbouncer(pg_admin_url, pool_size=6) as started:
        yield started


@pytest.fixture
def solo_bouncer(pg_admin_url: str) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode with ONE server connection: every client shares it."""
    with pgbouncer(pg_admin_url, pool_size=1) as started:
        yield started


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    """A small sandbox company, rate limits off, on a free port."""
    with start_sandbox(seed=7, scale=0.05, rate_limits="off") as handle:
        yield handle


@pytest.fixture(autouse=True)
def cache_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str) -> None:
    """Every engines test uses the test Redis under a prefix of its own (never embedded)."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", redis_prefix)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A real three-master Redis Cluster on loopback, shared by the session's tests."""
    with redis_cluster(3) as started:
        yield started


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's AWS server (Secrets Manager) on a free loopback port, for the session."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """AWS settings pointing boto3 at the moto server, which starts empty for each test.

    No AWS file or variable of the machine running the tests can leak in.
    """
    import httpx

    from sophia_cli.store import aws_secrets

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    httpx.post(f"{moto_endpoint}/moto-api/reset").raise_for_status()
    aws_secrets.forget_cache()
    yield moto_endpoint
    aws_secrets.forget_cache()  # no client or value of this test reaches the next one
