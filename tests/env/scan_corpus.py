"""The labelled secret-scanning corpus shared by tests/env and bench/scan.py.

Tokens are generated at import from a fixed seed, in each provider's real format, so no
literal credential lives in the repository (and `sophia env scan .` on this repo stays
clean). Each case is one small file: positives must be found, look-alikes must not.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

_rng = random.Random(20261124)
_ALNUM = string.ascii_letters + string.digits
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_HEX = "0123456789abcdef"


def _pick(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _digits(n: int) -> str:
    return str(_rng.randint(1, 9)) + _pick(string.digits, n - 1)


def _uuid() -> str:
    return "-".join(_pick(_HEX, n) for n in (8, 4, 4, 4, 12))


def _b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Case:
    family: str
    name: str  # file name inside the case folder
    text: str
    secret: str | None  # the secret a positive case contains (None for look-alikes)

    @property
    def positive(self) -> bool:
        return self.secret is not None


def _pos(family: str, name: str, template: str, secret: str) -> Case:
    return Case(family, name, template.format(s=secret), secret)


def _neg(family: str, name: str, text: str) -> Case:
    return Case(family, name, text, None)


def _slack() -> list[Case]:
    bot = lambda: f"xoxb-{_digits(12)}-{_digits(13)}-{_pick(_ALNUM, 24)}"  # noqa: E731
    user = f"xoxp-{_digits(12)}-{_digits(12)}-{_digits(13)}-{_pick(_HEX, 32)}"
    return [
        _pos("slack-token", "settings.py", 'SLACK_TOKEN = "{s}"\n', bot()),
        _pos("slack-token", "config.yaml", "slack:\n  bot_token: {s}\n", bot()),
        _pos("slack-token", "client.js", "const client = new WebClient('{s}');\n", user),
        _neg("slack-token", "README.md", "Set SLACK_BOT_TOKEN=xoxb-your-token-here\n"),
        _neg("slack-token", "example.env", "SLACK_BOT_TOKEN=xoxb-1234-5678-abcdef\n"),
        _neg(
            "slack-token",
            "test_slack.py",
            'FAKE = "xoxb-000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx"\n',
        ),
        _neg("slack-token", "compose.yaml", "SLACK_BOT_TOKEN: ${SLACK_BOT_TOKEN}\n"),
    ]


def _slack_app_and_webhook() -> list[Case]:
    app = lambda: f"xapp-1-A{_pick(_UPPER_DIGITS, 10)}-{_digits(13)}-{_pick(_HEX, 64)}"  # noqa: E731
    hook = lambda: (  # noqa: E731
        f"https://hooks.slack.com/services/T{_pick(_UPPER_DIGITS, 10)}/"
        f"B{_pick(_UPPER_DIGITS, 10)}/{_pick(_ALNUM, 24)}"
    )
    return [
        _pos("slack-app-token", "socket.py", 'APP_TOKEN = "{s}"\n', app()),
        _pos("slack-app-token", ".env.local", "SLACK_APP_TOKEN={s}\n", app()),
        _pos("slack-app-token", "app.ts", "export const appToken = `{s}`;\n", app()),
        _neg("slack-app-token", "docs.md", "App tokens look like `xapp-1-...`.\n"),
        _neg("slack-app-token", "test_app.py", 'TOKEN = "xapp-1-AXXXXXXXXXX-0000000000000-xxxx"\n'),
        _neg("slack-app-token", "values.yaml", "appToken: <xapp token>\n"),
        _pos("slack-webhook", "alerts.py", 'WEBHOOK = "{s}"\n', hook()),
        _pos("slack-webhook", "alerts.yaml", "webhook_url: {s}\n", hook()),
        _pos("slack-webhook", "notify.sh", "curl -X POST -d @msg.json {s}\n", hook()),
        _neg(
            "slack-webhook",
            "settings.py",
            'example="https://hooks.slack.com/services/T000/B000/XXXX"\n',
        ),
        _neg(
            "slack-webhook",
            "README.md",
            "Create a webhook at https://api.slack.com/messaging/webhooks\n",
        ),
        _neg(
            "slack-webhook",
            "env.tpl",
            "SQUAD_ALERT_WEBHOOK=https://hooks.slack.com/services/{{ team }}/{{ id }}\n",
        ),
    ]


def _openai_anthropic() -> list[Case]:
    legacy = f"sk-{_pick(_ALNUM, 20)}T3BlbkFJ{_pick(_ALNUM, 20)}"
    project = f"sk-proj-{_pick(_ALNUM + '-_', 120)}"
    service = f"sk-svcacct-{_pick(_ALNUM + '-_', 90)}"
    ant = lambda: f"sk-ant-api03-{_pick(_ALNUM + '-_', 93)}AA"  # noqa: E731
    return [
        _pos("openai-api-key", "llm.py", 'openai.api_key = "{s}"\n', legacy),
        _pos("openai-api-key", ".env.production", "OPENAI_API_KEY={s}\n", project),
        _pos("openai-api-key", "deploy.json", '{{"env": {{"OPENAI_API_KEY": "{s}"}}}}\n', service),
        _neg("openai-api-key", "README.md", "OPENAI_API_KEY=sk-proj-...\n"),
        _neg("openai-api-key", "test_llm.py", 'KEY = "sk-fake-key-for-tests-only-000000"\n'),
        _neg("openai-api-key", "mask.py", 'PREFIXES = ("sk-ant-", "sk-proj-", "sk-")\n'),
        _pos("anthropic-api-key", "claude.py", 'client = Anthropic(api_key="{s}")\n', ant()),
        _pos("anthropic-api-key", ".env", "ANTHROPIC_API_KEY={s}\n", ant()),
        _pos("anthropic-api-key", "config.toml", 'anthropic_key = "{s}"\n', ant()),
        _neg("anthropic-api-key", "docs.md", "Anthropic keys start with sk-ant-api03-.\n"),
        _neg("anthropic-api-key", ".env.example", "ANTHROPIC_API_KEY=CHANGEME\n"),
        _neg("anthropic-api-key", "settings.py", 'example="sk-ant-api03-..."\n'),
    ]


def _hubspot_asana() -> list[Case]:
    pat = lambda region: f"pat-{region}-{_uuid()}"  # noqa: E731
    asana = lambda: f"2/{_digits(16)}/{_digits(16)}:{_pick(_HEX, 32)}"  # noqa: E731
    return [
        _pos("hubspot-private-app-token", "hubspot.py", 'TOKEN = "{s}"\n', pat("na1")),
        _pos("hubspot-private-app-token", ".env.development", "HUBSPOT_API_KEY={s}\n", pat("eu1")),
        _pos(
            "hubspot-private-app-token",
            "crm.js",
            "headers.Authorization = 'Bearer {s}';\n",
            pat("na1"),
        ),
        _neg(
            "hubspot-private-app-token",
            "settings.py",
            'example="pat-na1-00000000-0000-0000-0000-000000000000"\n',
        ),
        _neg("hubspot-private-app-token", "ids.csv", f"deal_id,uuid\n1,{_uuid()}\n2,{_uuid()}\n"),
        _neg("hubspot-private-app-token", "README.md", "HubSpot tokens start with pat-na1-.\n"),
        _pos("asana-pat", "asana.py", 'ASANA_TOKEN = "{s}"\n', asana()),
        _pos("asana-pat", ".env.master", "ASANA_PAT_TOKEN={s}\n", asana()),
        _pos("asana-pat", "sync.yaml", "asana:\n  pat: '{s}'\n", f"0/{_pick(_HEX, 32)}"),
        _neg("asana-pat", "settings.py", 'example="2/1234567890/1234567890:abcdef"\n'),
        _neg("asana-pat", "dates.txt", "released 2/2026/11 and 1/12/2025\n"),
        _neg("asana-pat", "ratio.py", "x = 1/3 + 2/7  # fractions\n"),
    ]


def _aws_github() -> list[Case]:
    aws = lambda: "AKIA" + _pick(_UPPER_DIGITS, 16)  # noqa: E731
    ghp = lambda: "ghp_" + _pick(_ALNUM, 36)  # noqa: E731
    return [
        _pos(
            "aws-access-key-id", "boto.py", 'boto3.client("s3", aws_access_key_id="{s}")\n', aws()
        ),
        _pos("aws-access-key-id", "credentials", "[default]\naws_access_key_id = {s}\n", aws()),
        _pos(
            "aws-access-key-id",
            "ci.yaml",
            "env:\n  AWS_ACCESS_KEY_ID: {s}\n",
            "ASIA" + _pick(_UPPER_DIGITS, 16),
        ),
        _neg("aws-access-key-id", "docs.md", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"),
        _neg("aws-access-key-id", "words.txt", "AKIA is the prefix of long-term keys.\n"),
        _neg(
            "aws-access-key-id", "ci2.yaml", "AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}\n"
        ),
        _pos("github-token", "release.sh", "GITHUB_TOKEN={s} gh release create\n", ghp()),
        _pos(
            "github-token",
            "ci.py",
            'headers = {{"Authorization": "token {s}"}}\n',
            "ghs_" + _pick(_ALNUM, 36),
        ),
        _pos(
            "github-token",
            ".npmrc",
            "//npm.pkg.github.com/:_authToken={s}\n",
            "github_pat_" + _pick(_ALNUM, 22) + "_" + _pick(_ALNUM, 59),
        ),
        _neg("github-token", "workflow.yaml", "token: ${{ secrets.GITHUB_TOKEN }}\n"),
        _neg("github-token", "docs.md", "Personal tokens start with ghp_ and are 40 characters.\n"),
        _neg("github-token", "lockfile.txt", f"resolved sha1-{_pick(_HEX, 40)}\n"),
    ]


def _jwt_and_keys() -> list[Case]:
    def jwt() -> str:
        header = _b64url({"alg": "HS256", "typ": "JWT"})
        payload = _b64url({"sub": _pick(_ALNUM, 12), "iat": _rng.randint(10**9, 2 * 10**9)})
        return f"{header}.{payload}.{_pick(_ALNUM + '-_', 43)}"

    body = "\n".join(_pick(_ALNUM + "+/", 64) for _ in range(6))
    return [
        _pos("jwt", "test_api.py", 'TOKEN = "{s}"\n', jwt()),
        _pos("jwt", "requests.http", "Authorization: Bearer {s}\n", jwt()),
        _pos("jwt", "session.json", '{{"access_token": "{s}"}}\n', jwt()),
        _neg("jwt", "docs.md", "A JWT starts with eyJhbGciOi... and has three parts.\n"),
        _neg("jwt", "auth.py", 'if token.startswith("eyJ"):\n    pass\n'),
        _neg("jwt", "hashes.txt", f"sha256:{_pick(_HEX, 64)}\n"),
        _pos(
            "private-key",
            "id_rsa",
            "-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----\n",
            body,
        ),
        _pos(
            "private-key",
            "key.pem",
            "-----BEGIN PRIVATE KEY-----\n{s}\n-----END PRIVATE KEY-----\n",
            body[::-1],
        ),
        _pos(
            "private-key",
            "deploy_key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n-----END OPENSSH PRIVATE KEY-----\n",
            body.swapcase(),
        ),
        _neg(
            "private-key",
            "pub.pem",
            f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n",
        ),
        _neg(
            "private-key",
            "pem.py",
            'HEADER = "-----BEGIN PRIVATE KEY-----"\nFOOTER = "-----END PRIVATE KEY-----"\n',
        ),
        _neg(
            "private-key",
            "cert.pem",
            f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n",
        ),
    ]


def _urls_and_assignments() -> list[Case]:
    pw = lambda: _pick(_ALNUM, 18)  # noqa: E731
    return [
        _pos(
            "database-url-password",
            "db.py",
            'DSN = "postgresql://app:{s}@db.internal:5432/app"\n',
            pw(),
        ),
        _pos(
            "database-url-password",
            ".env",
            "DATABASE_URL=postgres://neondb_owner:{s}@ep-cool-1.eu-central-1.aws.neon.tech/neondb\n",
            pw(),
        ),
        _pos(
            "database-url-password",
            "cache.yaml",
            "redis_url: rediss://default:{s}@redis.example.net:6380/0\n",
            pw(),
        ),
        _neg(
            "database-url-password",
            "local.env",
            "DATABASE_URL=postgresql://postgres:postgres@localhost:5432/dev\n",
        ),
        _neg(
            "database-url-password",
            "tpl.env",
            "DATABASE_URL=postgresql://${DB_USER}:${DB_PASSWORD}@db/app\n",
        ),
        _neg(
            "database-url-password",
            "docs.md",
            "Use postgresql://user:password@host/db or redis://localhost:6379/0\n",
        ),
        _pos("secret-assignment", "settings.py", 'JWT_SECRET = "{s}"\n', _pick(_HEX, 64)),
        _pos(
            "secret-assignment", "app.yaml", "gong:\n  access_key_secret: {s}\n", _pick(_ALNUM, 32)
        ),
        _pos("secret-assignment", "server.go", 'apiKey := "{s}"\n', _pick(_ALNUM, 40)),
        _neg(
            "secret-assignment", "config.py", "api_key = settings.secret_value('openai_api_key')\n"
        ),
        _neg("secret-assignment", "ids.py", f'session_token_id = "{_uuid()}"\n'),
        _neg(
            "secret-assignment",
            "types.py",
            'TOKEN_KIND = "oauth2_token_exchange"\npassword_field = "PasswordInputWidget"\n',
        ),
        _neg("secret-assignment", "commit.txt", f"commit = {_pick(_HEX, 40)}\n"),
    ]


def build_corpus() -> list[Case]:
    """Every case, positives and look-alikes of every family."""
    return [
        *_slack(),
        *_slack_app_and_webhook(),
        *_openai_anthropic(),
        *_hubspot_asana(),
        *_aws_github(),
        *_jwt_and_keys(),
        *_urls_and_assignments(),
    ]


CORPUS = build_corpus()
