"""`sophia serve` workers read the same layered configuration as the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
import pytest
from serve_helpers import SECRET, Server

from sophia_cli.core.auth.tokens import Scope, issue_token
from sophia_cli.core.settings import load_settings


def write_master(folder: Path, values: dict[str, str]) -> Path:
    path = folder / ".env.master"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    path.chmod(0o600)
    return path


@pytest.fixture
def project(tmp_path: Path, module_warehouse_url: str, redis_url: str, redis_prefix: str) -> Path:
    """A project folder whose .env.master alone holds the secret and the stores."""
    folder = tmp_path / "project"
    folder.mkdir()
    write_master(
        folder,
        {
            "SOPHIA_ENV": "production",
            "JWT_SECRET": SECRET,
            "DATABASE_URL": module_warehouse_url,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": redis_prefix,
        },
    )
    return folder


def test_workers_read_the_secret_and_stores_from_env_master(
    project: Path, module_warehouse_url: str, start_server: Callable[..., Server]
) -> None:
    server = start_server("--workers", "2", cwd=project)
    token = issue_token(load_settings(jwt_secret=SECRET), "ops", [Scope.QUERY], 60)
    headers = {"Authorization": f"Bearer {token}"}
    with psycopg.connect(module_warehouse_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
    for _ in range(6):  # both workers answer some of these
        response = httpx.post(
            server.url + "/v1/query",
            json={"sql": "SELECT count(*) AS n FROM sophia.sync_runs"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    log = server.log.read_text()
    assert f"settings (production) from {project / '.env.master'}" in log
    assert log.count("worker ") >= 2
    assert name is not None and SECRET not in log


def test_serve_prints_which_layers_it_used(
    project: Path, start_server: Callable[..., Server], tmp_path: Path
) -> None:
    server = start_server(cwd=project)
    server.stop()
    assert f"from {project / '.env.master'}" in server.log.read_text()


def test_production_without_a_secret_in_any_layer_refuses_to_start(
    project: Path, start_server: Callable[..., Server], module_warehouse_url: str
) -> None:
    write_master(project, {"SOPHIA_ENV": "production", "DATABASE_URL": module_warehouse_url})
    server = start_server(cwd=project, wait=False)
    assert server.process.wait(timeout=60) != 0
    lines = [line for line in server.log.read_text().splitlines() if line.strip()]
    assert any("JWT_SECRET is not set" in line for line in lines)
    assert not any("Traceback" in line for line in lines)
