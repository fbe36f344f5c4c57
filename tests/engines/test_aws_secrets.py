"""AWS Secrets Manager: `SOPHIA_SECRETS_BACKEND=aws` for `sophia secrets`, and `aws-sm://`
setting values, with real boto3 calls over HTTP to moto's server on loopback."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sophia_cli.core.env.layers import load_layered
from sophia_cli.store import aws_secrets

Sophia = Callable[..., Any]
TOKEN = "xoxb-1111111111-2222222222-AbCdEfGhIjKlMnOpQrStUvWx"
DB_URL = "postgresql://sophia:Sup3r-Secret-pw@db.internal:5432/sophia"


def _boto(endpoint: str) -> Any:
    import boto3

    return boto3.client("secretsmanager", endpoint_url=endpoint, region_name="eu-central-1")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the current directory."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def _write_master(project: Path, text: str) -> None:
    path = project / ".env.master"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def _set(sophia: Sophia, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> Any:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(value + "\n"))
    return sophia("secrets", "set", name)


def test_secrets_set_writes_the_secret_under_the_sophia_prefix(
    sophia: Sophia, aws: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_SECRETS_BACKEND", "aws")
    result = _set(sophia, monkeypatch, "SLACK_BOT_TOKEN", TOKEN)
    assert result.exit_code == 0, result.stderr
    assert "sophia/SLACK_BOT_TOKEN" in result.stderr + result.stdout
    assert "SLACK_BOT_TOKEN=aws-sm://sophia/SLACK_BOT_TOKEN" in result.stderr + result.stdout
    assert TOKEN not in result.stderr + result.stdout
    stored = _boto(aws).get_secret_value(SecretId="sophia/SLACK_BOT_TOKEN")
    assert stored["SecretString"] == TOKEN


def test_secrets_get_list_and_delete_go_to_aws(
    sophia: Sophia, aws: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_SECRETS_BACKEND", "aws")
    _boto(aws).create_secret(Name="sophia/JWT_SECRET", SecretString="made-by-terraform-" + "x" * 40)
    _boto(aws).create_secret(Name="other-team/JWT_SECRET", SecretString="not ours")
    listed = sophia("secrets", "list", "--json")
    assert [item["name"] for item in listed.json()] == ["JWT_SECRET"]
    shown = sophia("secrets", "get", "JWT_SECRET", "--reveal")
    assert shown.stdout.strip() == "made-by-terraform-" + "x" * 40
    deleted = sophia("secrets", "delete", "JWT_SECRET", "--yes")
    assert deleted.exit_code == 0 and "restorable for 7 days" in deleted.stderr
    assert sophia("secrets", "list", "--json").json() == []
    gone = sophia("secrets", "get", "JWT_SECRET")
    assert gone.exit_code != 0
    assert "no secret named JWT_SECRET in AWS Secrets Manager" in gone.stderr


def test_setting_a_deleted_secret_again_restores_it_with_the_new_value(
    sophia: Sophia, aws: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_SECRETS_BACKEND", "aws")
    _set(sophia, monkeypatch, "SLACK_BOT_TOKEN", TOKEN)
    sophia("secrets", "delete", "SLACK_BOT_TOKEN", "--yes")
    again = _set(sophia, monkeypatch, "SLACK_BOT_TOKEN", TOKEN + "2")
    assert again.exit_code == 0, again.stderr
    stored = _boto(aws).get_secret_value(SecretId="sophia/SLACK_BOT_TOKEN")
    assert stored["SecretString"] == TOKEN + "2"


def test_rotation_keeps_the_previous_value_with_its_expiry_as_a_tag(
    sophia: Sophia, aws: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_SECRETS_BACKEND", "aws")
    _set(sophia, monkeypatch, "JWT_SECRET", "first-" + "a" * 60)
    rotated = sophia("secrets", "rotate", "JWT_SECRET", "--generate", "--grace", "2h", "--json")
    assert rotated.exit_code == 0, rotated.stderr
    previous = _boto(aws).get_secret_value(SecretId="sophia/JWT_SECRET_PREVIOUS")
    assert previous["SecretString"] == "first-" + "a" * 60
    listed = {item["name"]: item for item in sophia("secrets", "list", "--json").json()}
    assert listed["JWT_SECRET_PREVIOUS"]["expires_at"] == rotated.json()["previous_expires_at"]
    assert listed["JWT_SECRET"]["expires_at"] is None


def test_a_reference_resolves_to_the_secret_and_one_key_of_a_json_secret(
    aws: str, project: Path
) -> None:
    _boto(aws).create_secret(Name="prod/slack", SecretString=TOKEN)
    _boto(aws).create_secret(Name="prod/db", SecretString=json.dumps({"url": DB_URL, "port": 5432}))
    _write_master(
        project, "SLACK_BOT_TOKEN=aws-sm://prod/slack\nDATABASE_URL=aws-sm://prod/db#url\n"
    )
    settings, layers = load_layered(project)
    assert settings.secret_value("slack_bot_token") == TOKEN
    assert settings.secret_value("database_url") == DB_URL
    assert layers.effective()["DATABASE_URL"].layer == ".env.master → aws-sm"
    assert not layers.unresolved


def test_values_read_are_cached_for_the_life_of_the_process(aws: str, project: Path) -> None:
    _boto(aws).create_secret(Name="prod/slack", SecretString=TOKEN)
    _write_master(project, "SLACK_BOT_TOKEN=aws-sm://prod/slack\n")
    load_layered(project)
    _boto(aws).put_secret_value(SecretId="prod/slack", SecretString="xoxb-changed-since")
    settings, _ = load_layered(project)
    assert settings.secret_value("slack_bot_token") == TOKEN
    aws_secrets.forget_cache()  # a new process
    settings, _ = load_layered(project)
    assert settings.secret_value("slack_bot_token") == "xoxb-changed-since"


def test_unset_secrets_are_read_from_aws_when_it_is_the_backend(
    aws: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _boto(aws).create_secret(Name="sophia/SLACK_BOT_TOKEN", SecretString=TOKEN)
    _write_master(project, "SOPHIA_SECRETS_BACKEND=aws\n")
    settings, layers = load_layered(project)
    assert settings.secret_value("slack_bot_token") == TOKEN
    assert layers.effective()["SLACK_BOT_TOKEN"].layer == "aws-sm"


def test_env_check_shows_a_resolved_value_masked_and_never_the_value(
    sophia: Sophia, aws: str, project: Path
) -> None:
    _boto(aws).create_secret(Name="prod/db", SecretString=json.dumps({"url": DB_URL}))
    _write_master(project, "DATABASE_URL=aws-sm://prod/db#url\n")
    result = sophia("env", "check", "--json")
    variable = next(v for v in result.json()["variables"] if v["name"] == "DATABASE_URL")
    assert variable["layer"] == ".env.master → aws-sm" and variable["secret"]
    assert "Sup3r-Secret-pw" not in result.stdout + result.stderr


def test_env_check_reports_an_unresolvable_reference_and_the_command_refuses_to_run(
    sophia: Sophia, aws: str, project: Path
) -> None:
    _boto(aws).create_secret(Name="prod/db", SecretString=json.dumps({"url": DB_URL}))
    _write_master(project, "DATABASE_URL=aws-sm://prod/db#uri\nSLACK_BOT_TOKEN=aws-sm://nope\n")
    check = sophia("env", "check", "--json")
    found = {f["variable"]: f for f in check.json()["findings"] if f["code"] == "secret-unresolved"}
    assert set(found) == {"DATABASE_URL", "SLACK_BOT_TOKEN"}
    assert "has no key 'uri'" in found["DATABASE_URL"]["message"]
    assert "no secret nope" in found["SLACK_BOT_TOKEN"]["message"]
    assert check.exit_code == 1 and "Sup3r-Secret-pw" not in check.stdout
    # Never a silent fallback to the embedded database: the command says what is wrong.
    status = sophia("db", "status")
    assert status.exit_code != 0
    assert "DATABASE_URL: secret prod/db has no key 'uri'" in status.stderr
    assert "Traceback" not in status.stderr


def test_a_malformed_reference_is_an_input_error(sophia: Sophia, aws: str, project: Path) -> None:
    _write_master(project, "SLACK_BOT_TOKEN=aws-sm://has space\n")
    status = sophia("db", "status")
    assert status.exit_code == 2
    assert "is not an AWS Secrets Manager reference" in status.stderr


class _Denying(http.server.BaseHTTPRequestHandler):
    """An endpoint that answers every call as AWS does when IAM refuses it."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.dumps(
            {"__type": "AccessDeniedException", "message": "not authorized to GetSecretValue"}
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def denying_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Denying)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        ("no credentials", "no AWS credentials"),
        ("access denied", "AWS refused access to secret prod/slack"),
        ("unreachable", "is unreachable"),
        ("no region", "no AWS region"),
    ],
)
def test_each_aws_failure_is_one_line_saying_what_to_do(
    sophia: Sophia,
    aws: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    denying_endpoint: str,
    failure: str,
    expected: str,
) -> None:
    if failure == "no credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    elif failure == "access denied":
        monkeypatch.setenv("AWS_ENDPOINT_URL", denying_endpoint)
    elif failure == "unreachable":
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    else:
        monkeypatch.delenv("AWS_REGION")
    _write_master(project, "SLACK_BOT_TOKEN=aws-sm://prod/slack\n")
    result = sophia("db", "status")
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("error: SLACK_BOT_TOKEN:") and expected in lines[0], lines
    assert "Traceback" not in result.stderr and len(lines) <= 2


def test_debug_output_never_carries_a_value_read_from_aws(
    sophia: Sophia, aws: str, project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    _boto(aws).create_secret(Name="prod/slack", SecretString=TOKEN)
    _write_master(project, "SLACK_BOT_TOKEN=aws-sm://prod/slack\n")
    result = sophia("--debug", "env", "check")
    assert result.exit_code in (0, 1)
    assert TOKEN not in result.stdout + result.stderr + caplog.text


def test_doctor_reports_an_unresolvable_reference_instead_of_refusing_to_run(
    sophia: Sophia, aws: str, project: Path
) -> None:
    _write_master(project, "SLACK_BOT_TOKEN=aws-sm://nope\n")
    result = sophia("doctor", "--category", "config", "--json")
    assert result.exit_code == 1, result.stderr
    env_files = next(c for c in result.json()["checks"] if c["name"] == "env files")
    assert env_files["status"] == "fail" and "secret-unresolved" in env_files["detail"]
