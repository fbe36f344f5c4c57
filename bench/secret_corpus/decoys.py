"""Look-alikes that a good scanner must leave alone, per family they imitate.

Kinds: placeholders and templates, vendor documentation examples, environment references,
masked values, malformed or truncated tokens, low-entropy fakes, public identifiers that sit
next to secrets (org ids, client ids, account SIDs), public keys and certificates, file paths
under secret-like names, hashes (sha/md5/git commits), lock-file integrity hashes, CSS
colours, base64 of non-secrets and non-secret values under secret-like names.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
MULTILINE_KINDS = ("public_key_pem", "certificate", "pem_placeholder")


@dataclass(frozen=True)
class Lookalike:
    family: str
    kind: str
    value: str
    name: str = ""

    @property
    def multiline(self) -> bool:
        return self.kind in MULTILINE_KINDS


def _p(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _uuid(rng: random.Random) -> str:
    h = _p(rng, HEX, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _placeholders(token_hint: str, name: str) -> list[str]:
    lower = name.lower()
    return [
        "changeme",
        "CHANGEME",
        f"<your-{lower.replace('_', '-')}>",
        f"${{{name}}}",
        f"your_{lower}_here",
        "REPLACE_ME",
        f"{token_hint}...",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "<redacted>",
        "TODO",
        f"{token_hint}<insert-key>",
    ]


def _hash_like(rng: random.Random) -> tuple[str, str, str]:
    data = rng.randbytes(64)
    return rng.choice(
        [
            ("hash", hashlib.sha256(data).hexdigest(), "CHECKSUM_SHA256"),
            ("hash", hashlib.sha1(data).hexdigest(), "GIT_COMMIT"),
            ("hash", hashlib.md5(data).hexdigest(), "ETAG"),
            ("hash", "sha256:" + hashlib.sha256(data).hexdigest(), "IMAGE_DIGEST"),
            (
                "lock_integrity",
                "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode(),
                "integrity",
            ),
            ("identifier", _uuid(rng), "REQUEST_ID"),
            ("css_colour", "#" + _p(rng, HEX, 6), "BRAND_COLOR"),
            (
                "base64_data",
                base64.b64encode(
                    rng.choice(
                        [
                            b"hello world, this is not a secret",
                            b'{"theme":"dark","lang":"en"}',
                            b"user-facing banner text",
                        ]
                    )
                ).decode(),
                "BANNER_B64",
            ),
        ]
    )


def _paths(rng: random.Random) -> tuple[str, str]:
    user = rng.choice(["deploy", "ubuntu", "ci", "alice"])
    return rng.choice(
        [
            (f"/home/{user}/.ssh/id_ed25519", "SSH_PRIVATE_KEY_FILE"),
            (f"/home/{user}/.ssh/id_rsa", "private_key_path"),
            ("/etc/ssl/private/server.key", "TLS_KEY_FILE"),
            ("/var/secrets/google/key.json", "GOOGLE_APPLICATION_CREDENTIALS"),
            ("/run/secrets/db_password", "DB_PASSWORD_FILE"),
            ("./secrets/prod.env", "SECRETS_FILE"),
            ("~/.config/gcloud/application_default_credentials.json", "CREDENTIALS_PATH"),
        ]
    )


def _keypair_texts(rng: random.Random) -> tuple[str, str, str]:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
        .strip()
    )
    ssh = (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    name = x509.Name(
        [
            x509.NameAttribute(
                NameOID.COMMON_NAME, rng.choice(["api.example.com", "internal-ca", "bridge.local"])
            )
        ]
    )
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
        days=rng.randint(0, 500)
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(rng.getrandbits(63))
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, None)
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode().strip()
    return public_pem, cert_pem, f"{ssh} {rng.choice(['deploy@ci', 'alice@laptop', 'ops@bastion'])}"


_SPECIFIC: dict[str, list[tuple[str, str, str]]] = {
    # (kind, value, name) — values fixed or with {r} filled by random hex/alnum below.
    "slack_token": [
        ("malformed", "xoxb-12345-abcd234", "SLACK_BOT_TOKEN"),
        (
            "low_entropy",
            "xoxb-000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx",
            "SLACK_BOT_TOKEN",
        ),
        ("masked", "xoxb-****", "SLACK_BOT_TOKEN"),
        ("identifier", "C0{A9}", "SLACK_CHANNEL_ID"),
        ("identifier", "U0{A9}", "SLACK_ADMIN_USER"),
    ],
    "slack_webhook": [
        (
            "doc_example",
            "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "SLACK_WEBHOOK_URL",
        ),
        ("config_value", "https://slack.com/api/chat.postMessage", "SLACK_API_URL"),
        (
            "placeholder",
            "https://hooks.slack.com/services/${SLACK_WEBHOOK_PATH}",
            "SLACK_WEBHOOK_URL",
        ),
        ("config_value", "https://hooks.slack.com", "SLACK_HOOKS_HOST"),
    ],
    "openai": [
        ("placeholder", "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "OPENAI_API_KEY"),
        ("masked", "sk-proj-****************************abcd", "OPENAI_API_KEY"),
        ("identifier", "org-{a24}", "OPENAI_ORG_ID"),
        ("identifier", "proj_{a24}", "OPENAI_PROJECT_ID"),
        ("config_value", "gpt-4o-mini", "OPENAI_MODEL"),
    ],
    "anthropic": [
        (
            "malformed",
            "sk-ant-api03-abc123xyz-456def789ghij-klmnopqrstuvwx-3456yza789bcde-AA",
            "ANTHROPIC_API_KEY",
        ),
        ("placeholder", "sk-ant-...", "ANTHROPIC_API_KEY"),
        ("config_value", "claude-3-5-sonnet-20241022", "ANTHROPIC_MODEL"),
        ("config_value", "https://api.anthropic.com/v1/messages", "ANTHROPIC_BASE_URL"),
    ],
    "openrouter": [
        ("malformed", "sk-or-v1-0123456789abcdef...", "OPENROUTER_API_KEY"),
        ("low_entropy", "sk-or-v1-" + "0" * 64, "OPENROUTER_API_KEY"),
        ("config_value", "https://openrouter.ai/api/v1", "OPENROUTER_BASE_URL"),
        ("config_value", "openrouter/anthropic/claude-3.5-sonnet", "OPENROUTER_MODEL"),
    ],
    "hubspot": [
        ("identifier", "{uuid}", "HUBSPOT_CLIENT_ID"),
        ("identifier", "{d8}", "HUBSPOT_PORTAL_ID"),
        ("placeholder", "pat-na1-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", "HUBSPOT_ACCESS_TOKEN"),
        ("config_value", "https://api.hubapi.com/crm/v3/objects/deals", "HUBSPOT_DEALS_URL"),
    ],
    "asana": [
        ("identifier", "12{d14}", "ASANA_WORKSPACE_GID"),
        ("identifier", "11{d14}", "ASANA_PROJECT_GID"),
        ("placeholder", "1/1234567890:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ASANA_ACCESS_TOKEN"),
        ("config_value", "https://app.asana.com/api/1.0", "ASANA_BASE_URL"),
    ],
    "aws": [
        ("doc_example", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY_ID"),
        ("doc_example", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY"),
        ("identifier", "arn:aws:iam::{d12}:role/sophia-sync", "AWS_ROLE_ARN"),
        ("low_entropy", "test", "AWS_ACCESS_KEY_ID"),
        ("identifier", "{d12}", "AWS_ACCOUNT_ID"),
    ],
    "github": [
        ("placeholder", "ghp_" + "x" * 36, "GITHUB_TOKEN"),
        ("hash", "{h40}", "GITHUB_SHA"),
        ("placeholder", "${{ secrets.GITHUB_TOKEN }}", "GITHUB_TOKEN"),
        ("config_value", "https://api.github.com/repos/acme/sophia", "GITHUB_API_URL"),
    ],
    "gitlab": [
        ("placeholder", "glpat-XXXXXXXXXXXXXXXXXXXX", "GITLAB_TOKEN"),
        ("placeholder", "$CI_JOB_TOKEN", "GITLAB_TOKEN"),
        ("identifier", "{d8}", "CI_PROJECT_ID"),
    ],
    "stripe": [
        ("public_counterpart", "pk_live_51{a97}", "STRIPE_PUBLISHABLE_KEY"),
        ("public_counterpart", "pk_test_{a24}", "STRIPE_PUBLISHABLE_KEY"),
        ("doc_example", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "STRIPE_SECRET_KEY"),
        ("identifier", "price_1{a23}", "STRIPE_PRICE_ID"),
        ("identifier", "acct_1{a15}", "STRIPE_ACCOUNT"),
    ],
    "sendgrid": [
        (
            "placeholder",
            "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "SENDGRID_API_KEY",
        ),
        ("identifier", "d-{h32}", "SENDGRID_TEMPLATE_ID"),
        ("placeholder", "SG.your-api-key", "SENDGRID_API_KEY"),
    ],
    "twilio": [
        ("config_value", "+15005550006", "TWILIO_FROM_NUMBER"),
        ("placeholder", "your_auth_token", "TWILIO_AUTH_TOKEN"),
        ("identifier", "MG{h32}", "TWILIO_MESSAGING_SERVICE_SID"),
    ],
    "google_api_key": [
        ("placeholder", "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "GOOGLE_API_KEY"),
        ("identifier", "{d12}-{l32}.apps.googleusercontent.com", "GOOGLE_OAUTH_CLIENT_ID"),
        ("identifier", "G-{A10}", "GA_MEASUREMENT_ID"),
    ],
    "gcp_service_account": [
        ("path", "/var/secrets/google/key.json", "GOOGLE_APPLICATION_CREDENTIALS"),
        (
            "identifier",
            "etl-runner@acme-analytics-{d6}.iam.gserviceaccount.com",
            "GCP_SERVICE_ACCOUNT_EMAIL",
        ),
        ("identifier", "acme-analytics-{d6}", "GCP_PROJECT_ID"),
    ],
    "private_key": [
        ("path", "/home/deploy/.ssh/id_ed25519", "ssh_private_key_file"),
        ("path", "/etc/ssl/private/server.key", "ssl_certificate_key"),
        ("placeholder", "-----BEGIN PRIVATE KEY-----...-----END PRIVATE KEY-----", "PRIVATE_KEY"),
    ],
    "jwt": [
        (
            "doc_example",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "EXAMPLE_JWT",
        ),
        ("config_value", "HS256", "JWT_ALGORITHM"),
        ("masked", "eyJhbGciOi...", "SERVICE_TOKEN"),
        ("base64_data", "eyJ0aGVtZSI6ImRhcmsiLCJsYW5nIjoiZW4ifQ==", "UI_PREFS_B64"),
    ],
    "database_url": [
        ("placeholder", "postgresql://app@db:5432/app", "DATABASE_URL"),
        ("placeholder", "postgres://user:password@localhost:5432/app", "DATABASE_URL"),
        ("env_reference", "postgresql://${DB_USER}:${DB_PASSWORD}@db:5432/app", "DATABASE_URL"),
        ("config_value", "redis://localhost:6379/0", "REDIS_URL"),
        ("masked", "postgresql://app:****@db.internal:5432/app", "DATABASE_URL"),
        ("config_value", "mongodb://localhost:27017/test", "MONGODB_URI"),
    ],
    "django_secret_key": [
        ("placeholder", "django-insecure-change-me", "SECRET_KEY"),
        ("config_value", "50", "SECRET_KEY_LENGTH"),
        ("placeholder", "test-secret-key-not-for-production", "SECRET_KEY"),
    ],
    "password": [
        ("placeholder", "********", "DB_PASSWORD"),
        ("config_value", "12", "PASSWORD_MIN_LENGTH"),
        ("path", "/run/secrets/db_password", "DB_PASSWORD_FILE"),
        ("placeholder", "password", "DB_PASSWORD"),
        ("hash", "$2b$12${b53}", "ADMIN_PASSWORD_HASH"),
        ("config_value", "PasswordResetView", "PASSWORD_RESET_VIEW"),
    ],
    "generic_secret": [
        ("config_value", "3600", "JWT_EXPIRES_IN"),
        ("placeholder", "change-me-to-a-64-char-random-string", "JWT_SECRET"),
        ("config_value", "user:{d6}:profile", "CACHE_KEY_PREFIX"),
        ("identifier", "{uuid}", "TENANT_ID"),
    ],
    "package_token": [
        ("placeholder", "${NPM_TOKEN}", "NPM_TOKEN"),
        ("placeholder", "npm_" + "x" * 36, "NPM_TOKEN"),
        ("config_value", "__token__", "TWINE_USERNAME"),
        ("config_value", "https://registry.npmjs.org/", "NPM_REGISTRY"),
    ],
}
_HINTS = {
    "slack_token": "xoxb-",
    "openai": "sk-",
    "anthropic": "sk-ant-",
    "openrouter": "sk-or-v1-",
    "github": "ghp_",
    "gitlab": "glpat-",
    "stripe": "sk_live_",
    "sendgrid": "SG.",
    "google_api_key": "AIza",
    "package_token": "npm_",
    "hubspot": "pat-na1-",
    "jwt": "eyJ",
}


def _fill(rng: random.Random, template: str) -> str:
    fills: dict[str, Callable[[], str]] = {
        "{A9}": lambda: _p(rng, string.ascii_uppercase + string.digits, 9),
        "{A10}": lambda: _p(rng, string.ascii_uppercase + string.digits, 10),
        "{a24}": lambda: _p(rng, ALNUM, 24),
        "{a60}": lambda: _p(rng, ALNUM, 60),
        "{a31}": lambda: _p(rng, ALNUM, 31),
        "{a97}": lambda: _p(rng, ALNUM, 97),
        "{a23}": lambda: _p(rng, ALNUM, 23),
        "{a15}": lambda: _p(rng, ALNUM, 15),
        "{h32}": lambda: _p(rng, HEX, 32),
        "{h40}": lambda: _p(rng, HEX, 40),
        "{l32}": lambda: _p(rng, string.ascii_lowercase + string.digits, 32),
        "{d6}": lambda: str(rng.randint(100000, 999999)),
        "{d8}": lambda: str(rng.randint(10**7, 10**8 - 1)),
        "{d12}": lambda: str(rng.randint(10**11, 10**12 - 1)),
        "{d14}": lambda: str(rng.randint(10**13, 10**14 - 1)),
        "{uuid}": lambda: _uuid(rng),
        "{b53}": lambda: _p(rng, ALNUM + "./", 53),
    }
    for marker, make in fills.items():
        while marker in template:
            template = template.replace(marker, make(), 1)
    return template


def lookalike(rng: random.Random, family: str, kinds: tuple[str, ...] | None = None) -> Lookalike:
    """One look-alike for `family`, of one of `kinds` when given (single-line unless asked)."""
    options: list[Lookalike] = []
    default_name = next((n for _, _, n in _SPECIFIC.get(family, [])), "API_KEY")
    for kind, template, name in _SPECIFIC.get(family, []):
        options.append(Lookalike(family, kind, _fill(rng, template), name))
    for value in rng.sample(_placeholders(_HINTS.get(family, ""), default_name), 3):
        kind = "env_reference" if value.startswith("${") else "placeholder"
        options.append(Lookalike(family, kind, value, default_name))
    kind, value, name = _hash_like(rng)
    options.append(Lookalike(family, kind, value, name))
    path, name = _paths(rng)
    options.append(Lookalike(family, "path", path, name))
    if family == "private_key" or (kinds and set(kinds) & set(MULTILINE_KINDS)):
        public_pem, cert_pem, ssh = _keypair_texts(rng)
        options += [
            Lookalike(family, "public_key_pem", public_pem, "PUBLIC_KEY"),
            Lookalike(family, "certificate", cert_pem, "TLS_CERT"),
            Lookalike(family, "public_key", ssh, "SSH_AUTHORIZED_KEY"),
            Lookalike(
                family,
                "pem_placeholder",
                "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
                "PRIVATE_KEY",
            ),
        ]
    wanted = [o for o in options if (o.kind in kinds if kinds else not o.multiline)]
    return rng.choice(wanted or [o for o in options if not o.multiline])
