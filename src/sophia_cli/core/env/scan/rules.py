"""Secret rules: provider token formats plus high-entropy values under secret-looking names.

Each rule has a regex whose group `secret` is the secret itself (what gets redacted and
fingerprinted). Look-alikes (placeholders, documentation examples, repeated characters,
templated values) are rejected after matching, so precision does not depend on the regex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One kind of secret."""

    id: str
    description: str
    pattern: re.Pattern[str]
    min_entropy: float = 3.0  # bits per character of the secret part; rejects 000…/xxx…
    keywords: tuple[str, ...] = ()  # cheap substring test before the regex runs
    # Case-insensitive rules run on the lowercased text (4x faster than re.IGNORECASE);
    # `pattern` is then the IGNORECASE form, used when lowercasing changes the length.
    lowercase: re.Pattern[str] | None = None
    # The match may stop inside the value (generic rules): a display masks to the value's end.
    runs_on: bool = False


def _rule(
    id: str,
    description: str,
    regex: str,
    *keywords: str,
    min_entropy: float = 3.0,
    ignore_case: bool = False,
    runs_on: bool = False,
) -> Rule:
    if ignore_case:
        return Rule(
            id,
            description,
            re.compile(regex, re.IGNORECASE),
            min_entropy,
            keywords,
            lowercase=re.compile(regex),
            runs_on=runs_on,
        )
    return Rule(id, description, re.compile(regex), min_entropy, keywords, runs_on=runs_on)


_B = r"(?<![A-Za-z0-9_\-])"  # token boundary on the left
_E = r"(?![A-Za-z0-9_\-])"  # and on the right

_GENERIC_VALUE = (
    r"(?P<secret>(?<=[\"'`])[^\s\"'`\\]{8,200}+(?=\\?[\"'`])"
    r"|(?<![\"'`])[^\s\"'`,;\\]{8,200}+(?![(\[]))"
)

RULES: tuple[Rule, ...] = (
    _rule(
        "slack-token",
        "Slack bot, user or workspace token",
        _B + r"(?P<secret>xox[baprse]-(?:\d{6,}-){1,3}[A-Za-z0-9]{20,})" + _E,
        "xox",
    ),
    _rule(
        "slack-app-token",
        "Slack app-level token",
        _B + r"(?P<secret>xapp-\d-[A-Z0-9]{8,}-\d{8,}-[a-f0-9]{32,})" + _E,
        "xapp-",
    ),
    _rule(
        "slack-webhook",
        "Slack incoming, workflow or trigger webhook URL",
        r"(?P<secret>https://hooks\.slack\.com/(?:services/T[A-Z0-9]{8,}/B[A-Z0-9]{8,}/[A-Za-z0-9]{20,}"
        r"|workflows/T[A-Z0-9]{8,}/A[A-Z0-9]{8,}/\d{8,}/[A-Za-z0-9]{20,}"
        r"|triggers/T[A-Z0-9]{8,}/\d{8,}/[a-f0-9]{24,}))",
        "hooks.slack.com",
    ),
    _rule(
        "anthropic-api-key",
        "Anthropic API key",
        _B + r"(?P<secret>sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{40,})" + _E,
        "sk-ant-",
    ),
    _rule(
        "openrouter-api-key",
        "OpenRouter API key",
        _B + r"(?P<secret>sk-or-v1-[0-9a-f]{64})" + _E,
        "sk-or-",
    ),
    _rule(
        "sendgrid-api-key",
        "SendGrid API key",
        _B + r"(?P<secret>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + _E,
        "SG.",
    ),
    _rule(
        "openai-api-key",
        "OpenAI API key (user, project or service account)",
        _B + r"(?P<secret>sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,}"
        r"|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}))" + _E,
        "sk-",
    ),
    _rule(
        "hubspot-private-app-token",
        "HubSpot private app access token",
        _B + r"(?P<secret>pat-(?:na|eu|ap)\d-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}"
        r"-[0-9a-f]{12})" + _E,
        "pat-",
        min_entropy=3.2,
    ),
    _rule(
        "asana-pat",
        "Asana personal access token",
        _B + r"(?P<secret>[0-2]/\d{12,17}/\d{12,17}:[0-9a-f]{32}|1/\d{12,17}:[0-9a-f]{32}"
        r"|0/[0-9a-f]{32})" + _E,
        "/",
    ),
    _rule(
        "aws-access-key-id",
        "AWS access key id",
        _B + r"(?P<secret>(?:AKIA|ASIA)[0-9A-Z]{16})" + _E,
        "AKIA",
        "ASIA",
    ),
    _rule(
        "github-token",
        "GitHub token",
        _B + r"(?P<secret>gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})" + _E,
        *(f"gh{kind}_" for kind in "pousr"),
        "github_pat_",
    ),
    _rule(
        "gitlab-token",
        "GitLab personal, deploy, runner or pipeline trigger token",
        _B + r"(?P<secret>gl(?:pat|dt|rt|soat|ft|imt|agent|oas|cbt)-[A-Za-z0-9_\-]{20,}"
        r"|glptt-[0-9a-f]{40})" + _E,
        *(f"gl{kind}-" for kind in "pat dt rt soat ft imt agent oas cbt ptt".split()),
    ),
    _rule(
        "stripe-key",
        "Stripe secret or restricted key, or webhook signing secret",
        _B + r"(?P<secret>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,}|whsec_[A-Za-z0-9]{32,})" + _E,
        "sk_",
        "rk_",
        "whsec_",
    ),
    _rule(
        "twilio-api-key",
        "Twilio API key SID",
        _B + r"(?P<secret>SK[0-9a-f]{32})" + _E,
        "SK",
    ),
    _rule(
        "google-api-key",
        "Google API key",
        _B + r"(?P<secret>AIza[0-9A-Za-z_\-]{35})" + _E,
        "AIza",
    ),
    _rule(
        "npm-token",
        "npm access token",
        _B + r"(?P<secret>npm_[A-Za-z0-9]{36})" + _E,
        "npm_",
    ),
    _rule(
        "pypi-token",
        "PyPI upload token",
        _B + r"(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})" + _E,
        "pypi-",
    ),
    _rule(
        "django-secret-key",
        "Django SECRET_KEY as startproject writes it",
        r"(?P<secret>django-insecure-[a-z0-9!@#$%^&*(\-_=+)]{40,})",
        "django-insecure-",
        runs_on=True,
    ),
    _rule(
        "hubspot-api-key",
        "HubSpot legacy API key (a UUID under a HubSpot name)",
        r"(?:hubspot[\w.\-]*key|hapikey)[\w.\-]*[\"']?\s*(?::=|=>|[:=])\s*\\?[\"'`]?"
        r"(?P<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![\w\-])",
        ignore_case=True,
    ),
    _rule(
        "jwt",
        "JSON Web Token",
        _B
        + r"(?P<secret>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,})"
        + _E,
        "eyJ",
    ),
    _rule(
        "private-key",
        "Private key block",
        # The body may follow real newlines (indented in YAML), escaped ones (`\n` inside a
        # service-account JSON) or string concatenation; 40 base64 characters make it real.
        r"(?P<secret>-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?"
        r"PRIVATE KEY(?: BLOCK)?-----(?:\\r|\\n|[\s\"'+,|>])+"
        r"(?:[A-Za-z0-9+/=:\-]{1,76}(?:\\r|\\n|[\s\"'+,|>])+){0,6}?[A-Za-z0-9+/]{40,})",
        "PRIVATE KEY",
        min_entropy=0.0,
        runs_on=True,  # the match ends inside the block; a display masks all of it
    ),
    _rule(
        "database-url-password",
        "Database, cache or broker URL with a password",
        r"(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?)(?:\+\w+)?://"
        r"[^\s:/@'\"]*:(?P<secret>[^\s@/'\"]{3,})@[^\s/'\"]+",
        "://",
        min_entropy=0.0,
    ),
    # Starts at the keyword (not at the start of the name) so the regex engine stays fast.
    _rule(
        "secret-assignment",
        "Random value assigned to a secret-looking name",
        # A quoted value runs to its quote, punctuation included (Django keys, passwords);
        # a bare one stops at `,` or `;`. `??`, `||` and `,` cover fallbacks and defaults:
        # `process.env.X ?? "…"`, `os.environ.get("SECRET_KEY", "…")`.
        r"(?:secret|token|passw(?:or)?d|pwd|api[_\-]?key|access[_\-]?key|private[_\-]?key"
        r"|credential|auth[_\-]?key)[A-Za-z0-9_.\-]*"
        r"(?:\\?[\"']?\s*(?::=|=>|\?\?|\|\||[:=])|\\?[\"']\s*,)\s*\\?[\"'`]?" + _GENERIC_VALUE,
        min_entropy=3.5,
        ignore_case=True,
        runs_on=True,
    ),
    _rule(
        "secret-flag",
        "Random value passed to a password or token flag",
        r"--(?:requirepass|masterauth|password|passwd|token|api[_\-]?key|secret)"
        r"(?:=|[ \t]+|[\"'][ \t]*,[ \t]*)[\"'`]?" + _GENERIC_VALUE,
        "--",
        min_entropy=3.5,
        runs_on=True,
    ),
    _rule(
        "secret-env-value",
        "Random value of a Kubernetes env entry with a secret-looking name",
        r"name:[ \t]*[\"']?[\w.\-]*(?:secret|token|passw(?:or)?d|api_?key|access_?key"
        r"|private_?key|credential)[\w.\-]*[\"']?[ \t]*\r?\n[ \t]*value:[ \t]*[\"']?"
        + _GENERIC_VALUE,
        "value:",
        min_entropy=3.5,
        ignore_case=True,
        runs_on=True,
    ),
)
# Rules whose value is judged by randomness and context, not by a provider's format.
GENERIC_RULES = frozenset({"secret-assignment", "secret-flag", "secret-env-value"})
RULES_BY_ID = {rule.id: rule for rule in RULES}
