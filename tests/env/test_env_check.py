"""`sophia env check` reports every problem of the layered configuration in one run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from env_helpers import Sophia, WriteEnv, git

from sophia_cli.core.env.check import EnvReport, check_environment
from sophia_cli.core.settings import Environment

JWT = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b"  # 64 hex chars
SLACK = "xoxb-284736450192-5038271946302-Qm7ZpK2xV9rT4wL8nB3cY6dH"  # sophia: allow-secret
PG = "postgresql://app:Vq8pLm3Rt7Zx2Kw9@ep-cool-1.aws.neon.tech/sophia"  # sophia: allow-secret


def codes(report: EnvReport) -> list[str]:
    return [f.code for f in report.findings]


def finding(report: EnvReport, code: str, variable: str | None = None):
    matches = [
        f
        for f in report.findings
        if f.code == code and (variable is None or f.variable == variable)
    ]
    assert matches, f"no {code} for {variable}: {[(f.code, f.variable) for f in report.findings]}"
    return matches[0]


def test_clean_development_project_has_no_errors(project: Path) -> None:
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert report.summary.errors == 0
    assert report.exit_code() == 0


def test_precedence_process_over_master_over_environment_file(
    project: Path, write_env: WriteEnv
) -> None:
    write_env(".env.example", "SOPHIA_PORT=8000\nPRIMARY_SQUAD=litellm\nRATE_LIMIT_PER_MINUTE=1\n")
    write_env(".env.development", "SOPHIA_PORT=8100\nPRIMARY_SQUAD=aimlapi\n")
    write_env(".env.master", "SOPHIA_PORT=8200\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={"SOPHIA_PORT": "8300"})
    by_name = {v.name: v for v in report.variables}
    assert (by_name["SOPHIA_PORT"].value, by_name["SOPHIA_PORT"].layer) == (
        "8300",
        "process environment",
    )
    assert by_name["SOPHIA_PORT"].overrides == [".env.example", ".env.development", ".env.master"]
    assert (by_name["PRIMARY_SQUAD"].value, by_name["PRIMARY_SQUAD"].layer) == (
        "aimlapi",
        ".env.development",
    )
    assert by_name["RATE_LIMIT_PER_MINUTE"].layer == ".env.example"


def test_production_reports_every_missing_required_variable_at_once(project: Path) -> None:
    report = check_environment(project, Environment.PRODUCTION, environ={})
    missing = {f.variable for f in report.findings if f.code == "missing-required"}
    assert {
        "DATABASE_URL",
        "REDIS_URL",
        "JWT_SECRET",
        "SLACK_BOT_TOKEN",
        "HUBSPOT_API_KEY",
    } <= missing
    jwt = finding(report, "missing-required", "JWT_SECRET")
    assert "HS256" in jwt.message and jwt.hint and "JWT_SECRET=" in jwt.hint
    assert report.exit_code() == 1


def test_development_does_not_require_production_variables(project: Path) -> None:
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert "missing-required" not in codes(report)


def test_environment_is_taken_from_sophia_env(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.production", "SOPHIA_PORT=9000\n")
    report = check_environment(project, environ={"SOPHIA_ENV": "production"})
    assert report.environment is Environment.PRODUCTION
    assert ".env.production" in report.layers


def test_placeholder_outside_the_template_is_reported(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.example", "SLACK_BOT_TOKEN=CHANGEME\n")
    write_env(".env.production", "OPENAI_API_KEY=CHANGEME\n")
    report = check_environment(project, Environment.PRODUCTION, environ={})
    assert finding(report, "placeholder", "OPENAI_API_KEY").severity == "error"
    assert finding(report, "placeholder", "OPENAI_API_KEY").line == 1
    # The template's own placeholder is "unset", reported as missing rather than placeholder.
    assert finding(report, "missing-required", "SLACK_BOT_TOKEN")
    assert not [
        f for f in report.findings if f.code == "placeholder" and f.variable == "SLACK_BOT_TOKEN"
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://u:p4ssw0rdX@db/app"),
        ("REDIS_URL", "http://cache:6379"),
        ("SLACK_BOT_TOKEN", "xoxp-123-456-abc"),
        ("OPENAI_API_KEY", "sk-ant-api03-wrong-provider-key"),
        ("ANTHROPIC_API_KEY", "sk-proj-not-anthropic"),
        ("HUBSPOT_API_KEY", "hubspot-legacy-key-1234"),
        ("SOPHIA_PORT", "eighty"),
    ],
)
def test_malformed_values_are_errors(
    project: Path, write_env: WriteEnv, name: str, value: str
) -> None:
    write_env(".env.development", f"{name}={value}\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert finding(report, "malformed-value", name).severity == "error"


@pytest.mark.parametrize(
    "value",
    [
        PG,
        "postgres://u:pw@localhost/db",
        "host=/tmp dbname=sophia user=postgres",
        "rediss://default:pw@redis.example.com:6379/0",
        "unix:///tmp/valkey.sock",
    ],
)
def test_store_urls_in_accepted_forms_are_not_malformed(
    project: Path, write_env: WriteEnv, value: str
) -> None:
    name = "REDIS_URL" if value.startswith(("redis", "unix")) else "DATABASE_URL"
    write_env(".env.development", f"{name}='{value}'\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert "malformed-value" not in codes(report)


@pytest.mark.parametrize("value", ["short-secret", "a" * 80, "ab" * 40])
def test_weak_jwt_secret_is_an_error(project: Path, write_env: WriteEnv, value: str) -> None:
    write_env(".env.development", f"JWT_SECRET={value}\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert finding(report, "weak-secret", "JWT_SECRET").severity == "error"


def test_strong_jwt_secret_passes(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.development", f"JWT_SECRET={JWT}\n")
    assert "weak-secret" not in codes(
        check_environment(project, Environment.DEVELOPMENT, environ={})
    )


def test_same_secret_in_two_variables_is_reported(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.development", f"GONG_ACCESS_KEY={JWT}\nGONG_ACCESS_KEY_SECRET={JWT}\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    reused = finding(report, "reused-secret")
    assert "GONG_ACCESS_KEY" in reused.message and "GONG_ACCESS_KEY_SECRET" in reused.message


def test_deprecated_variable_names_its_replacement(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.development", "OPENROUTER_API_KEY=sk-or-v1-abc123def456\nOPENROUTER_MODEL=x\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert "LITELLM_API_KEY" in finding(report, "deprecated-variable", "OPENROUTER_API_KEY").message
    assert finding(report, "deprecated-variable", "OPENROUTER_MODEL")


def test_unknown_variable_suggests_the_known_one(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.development", "SLACK_BOT_TOKNE=xoxb-1\nCOMPLETELY_UNRELATED=1\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert (
        "did you mean SLACK_BOT_TOKEN?"
        in finding(report, "unknown-variable", "SLACK_BOT_TOKNE").message
    )
    assert "did you mean" not in finding(report, "unknown-variable", "COMPLETELY_UNRELATED").message


def test_conflicts_across_layers_and_duplicates_within_a_file(
    project: Path, write_env: WriteEnv
) -> None:
    write_env(
        ".env.development", "SOPHIA_PORT=8100\nRATE_LIMIT_PER_MINUTE=10\nRATE_LIMIT_PER_MINUTE=20\n"
    )
    write_env(".env.master", "SOPHIA_PORT=8200\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    conflict = finding(report, "layer-conflict", "SOPHIA_PORT")
    assert (conflict.file, conflict.line) == (".env.master", 1)
    duplicate = finding(report, "duplicate-key", "RATE_LIMIT_PER_MINUTE")
    assert (duplicate.file, duplicate.line) == (".env.development", 3)


def test_unparsable_line_and_hazard_point_at_file_and_line(
    project: Path, write_env: WriteEnv
) -> None:
    write_env(".env.development", "SOPHIA_PORT=8000\nPRIMARY_SQUAD: litellm\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    parse_error = finding(report, "parse-error")
    assert (parse_error.file, parse_error.line, parse_error.severity) == (
        ".env.development",
        2,
        "error",
    )
    assert finding(report, "dialect-hazard").line == 2


def test_master_file_readable_by_others_is_an_error(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.master", "SOPHIA_PORT=8000\n").chmod(0o644)
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert "mode 644" in finding(report, "file-permissions").message


def test_private_env_file_not_ignored_is_a_warning(project: Path, write_env: WriteEnv) -> None:
    (project / ".gitignore").write_text("")
    write_env(".env.development", "SOPHIA_PORT=8000\n")
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert finding(report, "not-gitignored").severity == "warning"
    assert report.exit_code() == 0 and report.exit_code(strict=True) == 1


def test_private_env_file_tracked_by_git_is_an_error(project: Path, write_env: WriteEnv) -> None:
    write_env(".env.production", "SOPHIA_PORT=8000\n")
    git(project, "add", "-f", ".env.production")
    report = check_environment(project, Environment.PRODUCTION, environ={})
    assert finding(report, "tracked-by-git").file == ".env.production"


def test_process_environment_wins_over_files_in_settings(
    project: Path, write_env: WriteEnv
) -> None:
    from sophia_cli.core.env.layers import load_layered_settings

    write_env(".env.master", "SOPHIA_PORT=8200\nOPENROUTER_API_KEY=sk-or-legacy-value\n")
    settings = load_layered_settings(project, None, {"SOPHIA_PORT": "8300"})
    assert settings.sophia_port == 8300
    # A deprecated name still feeds its replacement while the replacement is unset.
    assert settings.secret_value("litellm_api_key") == "sk-or-legacy-value"


def test_cli_settings_read_the_current_directory_layers(
    sophia: Sophia, project: Path, write_env: WriteEnv
) -> None:
    write_env(".env.master", "SOPHIA_ENV=production\n")
    result = sophia("env", "check", "--json")
    assert json.loads(result.stdout)["environment"] == "production"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_master_file_owned_by_someone_else_is_an_error(project: Path, write_env: WriteEnv) -> None:
    path = write_env(".env.master", "SOPHIA_PORT=8000\n")
    os.chown(path, 4242, -1)
    report = check_environment(project, Environment.DEVELOPMENT, environ={})
    assert "owned by uid 4242" in finding(report, "file-permissions").message


@pytest.mark.parametrize(
    ("name", "value"),
    [("SOPHIA_PORT", "99999"), ("SOPHIA_PORT", "0"), ("ASK_FISCAL_YEAR_START_MONTH", "13")],
)
def test_a_number_out_of_its_range_is_malformed(project: Path, name: str, value: str) -> None:
    report = check_environment(project, Environment.DEVELOPMENT, environ={name: value})
    assert finding(report, "malformed-value", name).severity == "error"
    assert report.exit_code() == 1


def test_a_port_in_range_passes(project: Path) -> None:
    report = check_environment(project, Environment.DEVELOPMENT, environ={"SOPHIA_PORT": "8080"})
    assert "malformed-value" not in codes(report)
