"""Fresh secrets in each family's documented format, drawn from a seeded generator.

Formats are the vendors' documented ones, cross-checked against the token shapes that
gitleaks' rules, trufflehog's detectors and detect-secrets' plugins accept (prefixes,
lengths, alphabets). Nothing here is a real credential: every value is random.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import urllib.parse
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.secret_corpus import keys

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
BASE32_UPPER = string.ascii_uppercase + "234567"
DJANGO_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
PUNCT = "!@#$%^&*()-_=+[]{};:,.<>?~"


@dataclass(frozen=True)
class Token:
    """One planted secret.

    `value` is the secret itself (what must never be printed beyond `public_prefix`);
    `written` is what a file holds where a value goes (the whole URL for a connection
    string, the PEM text for a key); `names` are variable names real projects use for it.
    """

    family: str
    value: str
    public_prefix: str
    names: tuple[str, ...]
    kind: str = "line"  # line | pem | url | gcp
    written: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.written or self.value


def pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + pick(rng, string.digits, n - 1)


def _base62(number: int, width: int) -> str:
    alphabet = string.digits + string.ascii_letters
    out = ""
    while number:
        number, rest = divmod(number, 62)
        out = alphabet[rest] + out
    return out.rjust(width, "0")


def slack_token(rng: random.Random) -> Token:
    shape = rng.choice(["bot", "bot", "user", "app", "legacy-bot"])
    if shape == "bot":
        value = (
            f"xoxb-{_digits(rng, rng.choice([12, 13]))}-{_digits(rng, 13)}-{pick(rng, ALNUM, 24)}"
        )
        return Token("slack_token", value, "xoxb-", ("SLACK_BOT_TOKEN", "SLACK_TOKEN"))
    if shape == "user":
        ids = "-".join(_digits(rng, rng.choice([11, 12, 13])) for _ in range(3))
        value = f"xoxp-{ids}-{pick(rng, HEX, 32)}"
        return Token("slack_token", value, "xoxp-", ("SLACK_USER_TOKEN", "SLACK_OAUTH_TOKEN"))
    if shape == "app":
        value = f"xapp-1-A{pick(rng, UPPER_ALNUM, 10)}-{_digits(rng, 13)}-{pick(rng, HEX, 64)}"
        return Token("slack_token", value, "xapp-", ("SLACK_APP_TOKEN",))
    value = f"xoxb-{_digits(rng, 12)}-{pick(rng, ALNUM, 24)}"
    return Token("slack_token", value, "xoxb-", ("SLACK_BOT_TOKEN", "SLACK_API_TOKEN"))


def slack_webhook(rng: random.Random) -> Token:
    team = "T" + pick(rng, UPPER_ALNUM, rng.choice([8, 10]))
    shape = rng.choice(["services", "services", "workflows", "triggers"])
    if shape == "services":
        tail = f"{team}/B{pick(rng, UPPER_ALNUM, rng.choice([8, 10]))}/{pick(rng, ALNUM, 24)}"
    elif shape == "workflows":
        tail = f"{team}/A{pick(rng, UPPER_ALNUM, 10)}/{_digits(rng, 18)}/{pick(rng, ALNUM, 24)}"
    else:
        tail = f"{team}/{_digits(rng, 13)}/{pick(rng, HEX, 32)}"
    prefix = f"https://hooks.slack.com/{shape}/"
    return Token("slack_webhook", prefix + tail, prefix, ("SLACK_WEBHOOK_URL", "ALERTS_WEBHOOK"))


def openai_key(rng: random.Random) -> Token:
    shape = rng.choice(["proj", "proj", "svcacct", "admin", "legacy"])
    if shape == "legacy":
        return Token(
            "openai",
            f"sk-{pick(rng, ALNUM, 20)}T3BlbkFJ{pick(rng, ALNUM, 20)}",
            "sk-",
            ("OPENAI_API_KEY",),
        )
    half = 58 if shape == "admin" else 74
    prefix = f"sk-{shape}-"
    body = f"{pick(rng, URLSAFE, half)}T3BlbkFJ{pick(rng, URLSAFE, half - 1)}A"
    names = ("OPENAI_ADMIN_KEY",) if shape == "admin" else ("OPENAI_API_KEY", "OPENAI_KEY")
    return Token("openai", prefix + body, prefix, names)


def anthropic_key(rng: random.Random) -> Token:
    prefix = rng.choice(["sk-ant-api03-", "sk-ant-api03-", "sk-ant-admin01-"])
    return Token(
        "anthropic",
        f"{prefix}{pick(rng, URLSAFE, 93)}AA",
        prefix,
        ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY"),
    )


def openrouter_key(rng: random.Random) -> Token:
    return Token(
        "openrouter",
        f"sk-or-v1-{pick(rng, HEX, 64)}",
        "sk-or-v1-",
        ("OPENROUTER_API_KEY", "OPENROUTER_KEY"),
    )


def _uuid(rng: random.Random) -> str:
    h = pick(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def hubspot_token(rng: random.Random) -> Token:
    if rng.random() < 0.75:
        prefix = rng.choice(["pat-na1-", "pat-na1-", "pat-eu1-"])
        return Token(
            "hubspot",
            prefix + _uuid(rng),
            prefix,
            ("HUBSPOT_ACCESS_TOKEN", "HUBSPOT_PRIVATE_APP_TOKEN"),
        )
    return Token("hubspot", _uuid(rng), "", ("HUBSPOT_API_KEY", "HAPIKEY"))


def asana_token(rng: random.Random) -> Token:
    shape = rng.choice(["v1", "v1", "v2", "v0"])
    if shape == "v1":
        value, prefix = f"1/{_digits(rng, 16)}:{pick(rng, HEX, 32)}", "1/"
    elif shape == "v2":
        value, prefix = f"2/{_digits(rng, 16)}/{_digits(rng, 16)}:{pick(rng, HEX, 32)}", "2/"
    else:
        value, prefix = f"0/{pick(rng, HEX, 32)}", "0/"
    return Token("asana", value, prefix, ("ASANA_ACCESS_TOKEN", "ASANA_PAT", "ASANA_TOKEN"))


def aws_key_id(rng: random.Random) -> Token:
    prefix = rng.choice(["AKIA", "AKIA", "ASIA"])
    return Token("aws", prefix + pick(rng, BASE32_UPPER, 16), prefix, ("AWS_ACCESS_KEY_ID",))


def aws_secret_key(rng: random.Random) -> Token:
    return Token("aws", pick(rng, B64, 40), "", ("AWS_SECRET_ACCESS_KEY",))


def aws_credential(rng: random.Random) -> Token:
    return aws_key_id(rng) if rng.random() < 0.5 else aws_secret_key(rng)


def github_token(rng: random.Random) -> Token:
    prefix = rng.choice(["ghp_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"])
    if prefix == "github_pat_":
        value = f"{prefix}11{pick(rng, UPPER_ALNUM, 20)}_{pick(rng, ALNUM, 59)}"
    else:
        # 30 random characters and a 6-character base62 CRC32, as GitHub documents.
        body = pick(rng, ALNUM, 30)
        value = prefix + body + _base62(zlib.crc32(body.encode()), 6)
    return Token("github", value, prefix, ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PAT"))


def gitlab_token(rng: random.Random) -> Token:
    prefix = rng.choice(["glpat-", "glpat-", "glpat-", "glptt-", "gldt-", "glrt-"])
    body = pick(rng, HEX, 40) if prefix == "glptt-" else pick(rng, URLSAFE, 20)
    return Token(
        "gitlab",
        prefix + body,
        prefix,
        ("GITLAB_TOKEN", "CI_JOB_API_TOKEN", "GITLAB_PRIVATE_TOKEN"),
    )


def stripe_key(rng: random.Random) -> Token:
    prefix = rng.choice(["sk_live_", "sk_live_", "rk_live_", "whsec_", "sk_test_"])
    if prefix == "whsec_":
        return Token("stripe", prefix + pick(rng, ALNUM, 32), prefix, ("STRIPE_WEBHOOK_SECRET",))
    body = pick(rng, ALNUM, 24) if rng.random() < 0.3 else "51" + pick(rng, ALNUM, 97)
    return Token("stripe", prefix + body, prefix, ("STRIPE_SECRET_KEY", "STRIPE_API_KEY"))


def sendgrid_key(rng: random.Random) -> Token:
    value = f"SG.{pick(rng, URLSAFE, 22)}.{pick(rng, URLSAFE, 43)}"
    return Token("sendgrid", value, "SG.", ("SENDGRID_API_KEY", "EMAIL_API_KEY"))


def twilio_secret(rng: random.Random) -> Token:
    if rng.random() < 0.5:
        return Token("twilio", "SK" + pick(rng, HEX, 32), "SK", ("TWILIO_API_KEY",))
    return Token(
        "twilio",
        pick(rng, HEX, 32),
        "",
        ("TWILIO_AUTH_TOKEN",),
        extra={"sid": "AC" + pick(rng, HEX, 32)},
    )


def google_api_key(rng: random.Random) -> Token:
    return Token(
        "google_api_key",
        "AIzaSy" + pick(rng, URLSAFE, 33),
        "AIza",
        ("GOOGLE_API_KEY", "GEMINI_API_KEY", "MAPS_API_KEY"),
    )


def gcp_service_account(rng: random.Random) -> Token:
    key = keys.gcp_key(rng)
    project = (
        rng.choice(["acme-analytics", "bi-prod", "sophia-data", "warehouse-etl"])
        + f"-{rng.randint(100000, 999999)}"
    )
    account = rng.choice(["etl-runner", "bigquery-reader", "sync-bot", "ci-deployer"])
    document = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": pick(rng, HEX, 40),
        "private_key": key.pem,
        "client_email": f"{account}@{project}.iam.gserviceaccount.com",
        "client_id": _digits(rng, 21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{account}%40{project}.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    }
    return Token(
        "gcp_service_account",
        key.pem,
        "-----BEGIN PRIVATE KEY-----",
        ("GOOGLE_CREDENTIALS", "GCP_SA_KEY"),
        kind="gcp",
        written=json.dumps(document, indent=2),
    )


def private_key(rng: random.Random) -> Token:
    key = keys.any_key(rng)
    header = key.pem.splitlines()[0]
    return Token(
        "private_key",
        key.pem,
        header,
        ("PRIVATE_KEY", "SSH_PRIVATE_KEY", "TLS_KEY"),
        kind="pem",
        extra={"public": key.public_openssh},
    )


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt_token(rng: random.Random) -> Token:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    iat = rng.randint(1_690_000_000, 1_760_000_000)
    claims: dict[str, object] = rng.choice(
        [
            {
                "iss": "supabase",
                "ref": pick(rng, string.ascii_lowercase, 20),
                "role": "service_role",
            },
            {"sub": f"svc-{pick(rng, string.ascii_lowercase, 6)}", "scope": "sync:write ask:read"},
            {"sub": str(rng.randint(1000, 99999)), "name": "ops-bot", "admin": True},
        ]
    )
    claims |= {"iat": iat, "exp": iat + rng.choice([3600 * 24 * 365, 3600 * 24 * 3650])}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing = f"{header}.{payload}".encode()
    signature = _b64url(hmac.new(rng.randbytes(32), signing, hashlib.sha256).digest())
    return Token(
        "jwt",
        f"{header}.{payload}.{signature}",
        header + ".",
        ("SERVICE_TOKEN", "SUPABASE_SERVICE_ROLE_KEY", "API_BEARER_TOKEN"),
    )


def strong_password(rng: random.Random, n: int | None = None) -> str:
    n = n or rng.randint(14, 26)
    while True:
        value = pick(rng, ALNUM + PUNCT, n)
        if (
            any(c in PUNCT for c in value)
            and any(c.isdigit() for c in value)
            and value[0] not in "-#!&*[]{}>?"
        ):
            return value


def memorable_password(rng: random.Random) -> str:
    words = [
        "Quokka",
        "Marmalade",
        "Zeppelin",
        "Fjord",
        "Obsidian",
        "Lantern",
        "Tundra",
        "Saffron",
        "Kestrel",
        "Nimbus",
    ]
    a, b = rng.sample(words, 2)
    return f"{a}{rng.choice(PUNCT[:8])}{b}{rng.randint(10, 9999)}{rng.choice('!?#%')}"


def database_url(rng: random.Random) -> Token:
    user = rng.choice(["app", "sophia", "etl", "admin", "reporting", "default"])
    password = strong_password(rng) if rng.random() < 0.8 else pick(rng, ALNUM, rng.randint(16, 32))
    quoted = urllib.parse.quote(password, safe="")
    host = rng.choice(
        [
            "db.internal",
            "ep-cool-river-123456.eu-central-1.aws.neon.tech",
            "10.0.3.17",
            "pg-primary.prod.svc",
            "cluster0.x1y2z.mongodb.net",
            "redis-master.cache.svc",
        ]
    )
    scheme = rng.choice(
        [
            "postgresql",
            "postgres",
            "postgresql+psycopg",
            "mysql",
            "mongodb+srv",
            "redis",
            "rediss",
            "amqp",
        ]
    )
    port = {
        "mysql": ":3306",
        "redis": ":6379",
        "rediss": ":6380",
        "amqp": ":5672",
        "mongodb+srv": "",
    }.get(scheme, ":5432")
    path = {
        "redis": "/0",
        "rediss": "/0",
        "amqp": "/%2F",
        "mongodb+srv": "/app?retryWrites=true&w=majority",
    }.get(scheme, "/" + rng.choice(["app", "warehouse", "sophia"]))
    userinfo = (
        f":{quoted}" if scheme.startswith("redis") and rng.random() < 0.5 else f"{user}:{quoted}"
    )
    url = f"{scheme}://{userinfo}@{host}{port}{path}"
    names = {
        "redis": ("REDIS_URL",),
        "rediss": ("REDIS_URL", "CACHE_URL"),
        "amqp": ("BROKER_URL", "CELERY_BROKER_URL"),
        "mongodb+srv": ("MONGODB_URI", "MONGO_URL"),
    }.get(scheme, ("DATABASE_URL", "WAREHOUSE_URL"))
    return Token("database_url", password, "", names, kind="url", written=url)


def django_secret_key(rng: random.Random) -> Token:
    prefix = "django-insecure-" if rng.random() < 0.4 else ""
    return Token(
        "django_secret_key",
        prefix + pick(rng, DJANGO_CHARS, 50),
        prefix,
        ("DJANGO_SECRET_KEY", "SECRET_KEY"),
    )


def password(rng: random.Random) -> Token:
    value = strong_password(rng) if rng.random() < 0.7 else memorable_password(rng)
    names = rng.choice(
        [
            ("DB_PASSWORD",),
            ("POSTGRES_PASSWORD",),
            ("SMTP_PASSWORD", "EMAIL_HOST_PASSWORD"),
            ("REDIS_PASSWORD",),
            ("ADMIN_PASSWORD",),
            ("MYSQL_ROOT_PASSWORD",),
            ("LDAP_BIND_PASSWORD",),
        ]
    )
    return Token("password", value, "", names)


def generic_secret(rng: random.Random) -> Token:
    shape = rng.choice(
        ["jwt_secret", "aimlapi", "gong", "datadog", "mailgun", "rails", "flask", "nextauth"]
    )
    if shape == "jwt_secret":
        return Token(
            "generic_secret",
            pick(rng, URLSAFE, rng.choice([64, 86])),
            "",
            ("JWT_SECRET", "JWT_SIGNING_KEY"),
        )
    if shape == "aimlapi":
        return Token("generic_secret", pick(rng, HEX, 32), "", ("AIMLAPI_API_KEY",))
    if shape == "gong":
        return Token("generic_secret", pick(rng, ALNUM, 43) + "=", "", ("GONG_ACCESS_KEY_SECRET",))
    if shape == "datadog":
        return Token("generic_secret", pick(rng, HEX, 32), "", ("DATADOG_API_KEY", "DD_API_KEY"))
    if shape == "mailgun":
        return Token("generic_secret", "key-" + pick(rng, HEX, 32), "key-", ("MAILGUN_API_KEY",))
    if shape == "rails":
        return Token("generic_secret", pick(rng, HEX, 128), "", ("SECRET_KEY_BASE",))
    if shape == "flask":
        return Token("generic_secret", pick(rng, HEX, 64), "", ("FLASK_SECRET_KEY", "APP_SECRET"))
    return Token(
        "generic_secret",
        base64.b64encode(rng.randbytes(32)).decode(),
        "",
        ("NEXTAUTH_SECRET", "SESSION_SECRET"),
    )


def package_token(rng: random.Random) -> Token:
    if rng.random() < 0.5:
        body = pick(rng, ALNUM, 30)
        return Token(
            "package_token",
            "npm_" + body + _base62(zlib.crc32(body.encode()), 6),
            "npm_",
            ("NPM_TOKEN", "NODE_AUTH_TOKEN"),
        )
    # A PyPI token is "pypi-" and a base64url macaroon whose first bytes name pypi.org.
    macaroon = b"\x02\x01\x08pypi.org\x02\x25\x00\x02" + rng.randbytes(rng.choice([120, 150]))
    value = "pypi-" + _b64url(macaroon)
    return Token(
        "package_token",
        value,
        "pypi-AgEIcHlwaS5vcmc",
        ("PYPI_TOKEN", "TWINE_PASSWORD", "PYPI_API_TOKEN"),
    )


FAMILIES: dict[str, Callable[[random.Random], Token]] = {
    "slack_token": slack_token,
    "slack_webhook": slack_webhook,
    "openai": openai_key,
    "anthropic": anthropic_key,
    "openrouter": openrouter_key,
    "hubspot": hubspot_token,
    "asana": asana_token,
    "aws": aws_credential,
    "github": github_token,
    "gitlab": gitlab_token,
    "stripe": stripe_key,
    "sendgrid": sendgrid_key,
    "twilio": twilio_secret,
    "google_api_key": google_api_key,
    "gcp_service_account": gcp_service_account,
    "private_key": private_key,
    "jwt": jwt_token,
    "database_url": database_url,
    "django_secret_key": django_secret_key,
    "password": password,
    "generic_secret": generic_secret,
    "package_token": package_token,
}
