"""`sophia env check` output formats: text, JSON, SARIF 2.1.0, GitHub annotations; no leaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from env_helpers import Sophia, WriteEnv

# Real-looking secrets planted in the fixture project; none may appear in any output.
SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-28473645-50382719-Qm7ZpK2xV9rT4wL8nB3cY6",  # sophia: allow-secret
    "OPENAI_API_KEY": "sk-proj-Zq4Wm8Xr2Tn6Yb0Vc3Lp7Hs1Kd5Jf9Ga",  # sophia: allow-secret
    "ANTHROPIC_API_KEY": "sk-ant-api03-Pw8Rk2Lm6Qz0Xn4Tv7Yb1Hc5Jd9Gf3Sa",  # sophia: allow-secret
    "DATABASE_URL": "postgresql://app:Vq8pLm3Rt7@ep-1.aws.neon.tech/db",  # sophia: allow-secret
    "JWT_SECRET": "short-but-secret-Hx7Qk2",  # sophia: allow-secret
    "GONG_ACCESS_KEY": "Gk8Vd2Pq6Ws0Zr4Ty7Nb1Mc5",  # sophia: allow-secret
    "GONG_ACCESS_KEY_SECRET": "Gk8Vd2Pq6Ws0Zr4Ty7Nb1Mc5",  # sophia: allow-secret
    "OPENROUTER_API_KEY": "sk-or-v1-Lx3Nq7Rw1Tz5Vb9Yc2Hd6Jf0Gk4",  # sophia: allow-secret
    "MY_SERVICE_TOKEN": "Tk5Rm9Wq3Xz7Yv1Nb4Hc8Jd2",  # sophia: allow-secret
    "LEGACY_DSN": "postgresql://legacy:Pz4Nq8Wr2Xt@old-db.internal/app",  # sophia: allow-secret
    "BRIDGE_CONFIG": "xoxb-39485720-59382710-Wq3Xz7Yv1Nb4Hc8Jd2Tk5R",  # sophia: allow-secret
}


@pytest.fixture
def leaky_project(project: Path, write_env: WriteEnv) -> Path:
    """A project whose env files hold secrets and problems of every kind."""
    lines = [f"{name}={value}" for name, value in SECRETS.items()]
    write_env(".env.production", "\n".join(lines[:5]) + "\nBROKEN LINE\n")
    write_env(".env.master", "\n".join(lines[5:]) + "\n").chmod(0o640)
    return project


def _parts(secret: str) -> list[str]:
    # The secret, and its password part for URLs.
    parts = [secret]
    if "://" in secret:
        parts.append(secret.split(":")[2].split("@")[0])
    return parts


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_no_secret_value_appears_in_any_format(
    sophia: Sophia, leaky_project: Path, fmt: str
) -> None:
    result = sophia("env", "check", "--env", "production", "--format", fmt)
    assert result.exit_code == 1
    everything = result.stdout + result.stderr
    assert len(everything) > 200
    for secret in SECRETS.values():
        for part in _parts(secret):
            assert part not in everything, f"{fmt} output leaks a secret"


def test_secrets_show_only_a_short_known_prefix(sophia: Sophia, leaky_project: Path) -> None:
    report = json.loads(sophia("env", "check", "--env", "production", "--json").stdout)
    values = {v["name"]: v["value"] for v in report["variables"]}
    assert values["SLACK_BOT_TOKEN"] == "xoxb-•••"
    assert values["ANTHROPIC_API_KEY"] == "sk-ant-api03-•••"
    assert values["DATABASE_URL"] == "postgresql://•••@ep-1.aws.neon.tech/•••"
    assert values["MY_SERVICE_TOKEN"] == "•••"


def test_json_findings_have_severity_code_message_and_location(
    sophia: Sophia, leaky_project: Path
) -> None:
    report = json.loads(sophia("env", "check", "--env", "production", "--json").stdout)
    assert report["summary"]["errors"] >= 3
    for item in report["findings"]:
        assert {"severity", "code", "message"} <= set(item)
        assert item["variable"] or item["file"] or item["code"] == "keyring-unavailable"
    parse_error = next(f for f in report["findings"] if f["code"] == "parse-error")
    assert (parse_error["file"], parse_error["line"]) == (".env.production", 6)


def test_sarif_output_is_sarif_2_1_0_with_locations(sophia: Sophia, leaky_project: Path) -> None:
    document = json.loads(sophia("env", "check", "--env", "production", "--format", "sarif").stdout)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    located = [r for r in run["results"] if "locations" in r]
    assert located
    for result in run["results"]:
        assert result["level"] in ("error", "warning", "note")
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    first = located[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"].startswith(".env.")


def test_github_format_is_one_workflow_command_per_finding(
    sophia: Sophia, leaky_project: Path
) -> None:
    result = sophia("env", "check", "--env", "production", "--format", "github")
    lines = result.stdout.splitlines()
    assert any(line.startswith("::error file=.env.production,line=6,") for line in lines)
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_text_output_lists_findings_with_file_and_line(sophia: Sophia, leaky_project: Path) -> None:
    result = sophia("env", "check", "--env", "production")
    assert "parse-error" in result.stdout and ".env.production:6" in result.stdout
    assert "error(s)" in result.stderr


def test_exit_code_is_zero_when_clean_and_strict_fails_on_warnings(
    sophia: Sophia, project: Path, write_env: WriteEnv
) -> None:
    assert sophia("env", "check").exit_code == 0
    write_env(".env.development", "SOPHIA_PORT=8000\nSOPHIA_PORT=8001\n")
    assert sophia("env", "check").exit_code == 0
    assert sophia("env", "check", "--strict").exit_code == 1


def test_bad_environment_name_is_a_usage_error(sophia: Sophia, project: Path) -> None:
    result = sophia("env", "check", "--env", "staging")
    assert result.exit_code == 2
    assert "staging" in result.stderr


def test_invalid_sophia_env_is_one_clear_error(
    sophia: Sophia, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOPHIA_ENV", "staging")
    result = sophia("env", "check", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "config"


def test_doctor_runs_the_env_check(sophia: Sophia, leaky_project: Path) -> None:
    from sophia_cli.core.doctor.checks.env import env_configuration
    from sophia_cli.core.settings import load_settings

    outcome = env_configuration(load_settings(sophia_env="production"))
    assert outcome.status == "fail"
    assert "error" in outcome.detail
    for secret in SECRETS.values():
        assert secret not in outcome.detail


def test_missing_directory_is_an_input_error(sophia: Sophia, tmp_path: Path) -> None:
    result = sophia("env", "check", "--dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "not a folder" in result.stderr
