"""Leak forms and families the scan must find, and look-alikes it must leave alone.

Every token is generated here at run time in its documented format, so the repository
holds no literal credential.
"""

from __future__ import annotations

import base64
import json
import random
import string

import pytest

from sophia_cli.core.env.scan.scanner import scan_text

_rng = random.Random(18)
_ALNUM = string.ascii_letters + string.digits


def _pick(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _pem(kind: str = "PRIVATE KEY") -> str:
    body = base64.b64encode(_rng.randbytes(600)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def _rules(text: str) -> list[str]:
    return [rule for rule, _, _ in scan_text(text)]


def test_the_escaped_key_of_a_service_account_json_is_found() -> None:
    account = {
        "type": "service_account",
        "project_id": "bi-prod",
        "private_key_id": _pick("0123456789abcdef", 40),
        "private_key": _pem(),
        "client_email": "sync@bi-prod.iam.gserviceaccount.com",
    }
    assert _rules(json.dumps(account, indent=2)) == ["private-key"]


def test_a_pem_block_indented_in_yaml_is_found() -> None:
    indented = "".join(f"    {line}\n" for line in _pem("RSA PRIVATE KEY").splitlines())
    assert _rules(f"tls:\n  key: |\n{indented}  cert: ok\n") == ["private-key"]


def test_a_pem_block_built_by_string_concatenation_is_found() -> None:
    lines = _pem("EC PRIVATE KEY").splitlines()
    code = "KEY = (\n" + "".join(f'    "{line}\\n"\n' for line in lines) + ")\n"
    assert _rules(code) == ["private-key"]


_DJANGO = string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)"


def test_a_django_secret_key_is_found_by_its_prefix_anywhere() -> None:
    key = "django-insecure-" + _pick(_DJANGO, 50)
    assert _rules(f"The staging key is `{key}` for now.\n") == ["django-secret-key"]


def test_a_django_secret_key_without_prefix_is_found_under_its_name() -> None:
    key = _pick(_DJANGO, 50)
    assert _rules(f"SECRET_KEY = '{key}'\n") == ["secret-assignment"]
    default = f'SECRET_KEY = os.environ.get("SECRET_KEY", "{key}")\n'
    assert _rules(default) == ["secret-assignment"]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ('command: ["redis-server", "--requirepass", "{s}"]\n', "secret-flag"),
        ('env:\n  - name: DJANGO_SECRET_KEY\n    value: "{s}"\n', "secret-env-value"),
        ('key = process.env.API_TOKEN ?? "{s}"\n', "secret-assignment"),
    ],
)
def test_flags_env_entries_and_fallbacks_are_read_as_assignments(text: str, rule: str) -> None:
    value = "".join(_rng.sample("Kq7#vLm2$Rt9!Xw4", 16))
    assert _rules(text.replace("{s}", value)) == [rule]


@pytest.mark.parametrize(
    "template",
    ['DB_PASSWORD = "{s}"\n', "password: {s}\n", "SMTP_PASSWORD={s}\n", '"api_key": "{s}"\n'],
)
def test_a_password_with_punctuation_is_found(template: str) -> None:
    secret = "".join(
        _rng.sample(_pick(string.ascii_lowercase, 5) + _pick("ABCDEFGHJK", 4) + "7$!k2#", 15)
    )
    assert _rules(template.format(s=secret)) == ["secret-assignment"]


def test_an_openrouter_key_is_found_by_its_own_rule() -> None:
    key = "sk-or-v1-" + _pick("0123456789abcdef", 64)
    assert _rules(f"OPENROUTER_API_KEY={key}\n") == ["openrouter-api-key"]


@pytest.mark.parametrize(
    "template", ['SENDGRID_API_KEY="{s}"\n', "sg = SendGridAPIClient('{s}')\n"]
)
def test_a_sendgrid_key_is_found_in_any_file(template: str) -> None:
    key = f"SG.{_pick(_ALNUM + '_-', 22)}.{_pick(_ALNUM + '_-', 43)}"
    assert _rules(template.format(s=key)) == ["sendgrid-api-key"]


def test_slack_workflow_and_trigger_webhooks_are_found() -> None:
    team, app = "T" + _pick("ABCDEFGHJKLMNP0123456789", 10), "A" + _pick("BCDEFGH0123456789", 10)
    workflow = f"https://hooks.slack.com/workflows/{team}/{app}/{_rng.randrange(10**17, 10**18)}/"
    workflow += _pick(_ALNUM, 24)
    trigger = f"https://hooks.slack.com/triggers/{team}/{_rng.randrange(10**12, 10**13)}/"
    trigger += _pick("0123456789abcdef", 32)
    assert _rules(f"a = '{workflow}'\nb = '{trigger}'\n") == ["slack-webhook", "slack-webhook"]


def test_an_asana_v1_token_is_found() -> None:
    token = f"1/{_rng.randrange(10**14, 10**15)}:{_pick('0123456789abcdef', 32)}"
    assert _rules(f"ASANA_TOKEN={token}\n") == ["asana-pat"]


@pytest.mark.parametrize(
    "text",
    [
        "ssh_private_key_file: /home/deploy/.ssh/id_ed25519\n",
        "private_key_path = ~/.config/gcloud/key.json\n",
        "secret_file: secrets/prod/db_password.txt\n",
        "api_key_file: ./certs/api-client.key\n",
        'token_url = "https://oauth2.googleapis.com/token"\n',
        "password: P@ssw0rd!2024\n",
        "password = Welcome#2025Q1\n",
        'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\n',
        "async def f(request: Request, credentials: Credentials) -> Claims:\n",
        "token = tokens[index]\n",
        'HEADER = "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----"\n',
        "OPENROUTER_API_KEY=sk-or-v1-your-key-here\n",
        "SENDGRID_API_KEY=SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        "webhook: https://hooks.slack.com/workflows/T00000000/A00000000/000/XXXXXXXXXXXXXXXXXXXX\n",
    ],
)
def test_a_look_alike_is_left_alone(text: str) -> None:
    assert scan_text(text) == []
