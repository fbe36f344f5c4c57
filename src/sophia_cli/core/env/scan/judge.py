"""Telling a real secret from a look-alike once a rule's regex has matched.

Placeholders, documentation examples, templated values, names in code, paths and words are
rejected here, so a rule's precision does not rest on its regex alone.
"""

from __future__ import annotations

import re

from sophia_cli.core.env.entropy import shannon_entropy
from sophia_cli.core.env.scan.rules import GENERIC_RULES, Rule

_TEMPLATED = re.compile(
    r"\$\{|\{\{|\{[A-Za-z_][\w.]*\}|<[A-Za-z_][\w .\-]*>|%\(|%s|CHANGEME|•|\$[A-Z_]{3,}"
    r"|os\.environ|process\.env|getenv|\.\.\.|…"
)
# Tokens published in vendors' documentation (jwt.io's sample, Stripe's docs test key).
_PUBLISHED = ("SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "4eC39HqLyjWDarjtT1zdp7dc")
_DOC_LINE = re.compile(r"example|e\.g\.|for instance|sample", re.IGNORECASE)
_SEGMENTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
MAX_GENERIC_LINE = 1000  # longer lines are minified or generated code
_EXAMPLE_WORDS = re.compile(
    r"example|dummy|fake|sample|placeholder|redacted|your[_\-]|xxxx|0{10}|1234567890",
    re.IGNORECASE,
)
# Words people type as stand-in passwords (after undoing the usual l33t substitutions).
_WEAK_WORDS = re.compile(
    r"passw|changeme|qwerty|letmein|welcome|secret|admin|hunter2|test|demo|default", re.I
)
_LEET = str.maketrans("@0134$5!7", "aoleassit")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_IDENTIFIER = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*)(?:[.\-][A-Za-z_][A-Za-z0-9_]*)*$")
_ALNUM_VALUE = re.compile(r"[A-Za-z0-9+/=_\-.~]+")
# `/home/me/.ssh/id_ed25519`, `~/.aws/credentials`, `./certs/key.pem`, `C:\keys\api.txt`.
_PATH = re.compile(
    r"^(?:/|~|\.\.?/|[A-Za-z]:\\|\$HOME|%\w+%)"
    r"|^(?:[\w.\-]+/)+[\w.\-]+\.(?:pem|key|json|txt|ya?ml|p12|pfx|crt|der|env|conf|cfg|ini|asc|gpg)$"
    r"|(?:^|/)id_(?:rsa|dsa|ecdsa|ed25519)(?:\.pub)?$"
)
_ID_NAME = re.compile(r"(?:[_.\-]id|[a-z]Id|_ID)[\"']?\s*(?::=|=>|[:=])\s*[\"'`]?$")
_CODE = re.compile(r"^[\w.]+\(|\w\[|\)\.|::|=>|\|\||&&")
_DUMMY_PASSWORDS = frozenset(
    "password pass passwd secret changeme postgres redis admin user test example xxx *** ****"
    " pw root".split()
)


def accept(rule: Rule, secret: str, line: str = "") -> bool:
    """Whether a matched value is plausibly a real secret (rejects look-alikes)."""
    if _TEMPLATED.search(secret) or _EXAMPLE_WORDS.search(secret):
        return False
    if any(sample in secret for sample in _PUBLISHED) or _made_up(_body(secret)):
        return False
    if rule.id == "database-url-password":
        if _WEAK_WORDS.search(secret.lower().translate(_LEET)):
            return False
        return secret.lower() not in _DUMMY_PASSWORDS and not set(secret) <= {"*", "x", "X"}
    if rule.id in GENERIC_RULES:
        return _generic_secret(secret, line, rule.min_entropy)
    return shannon_entropy(_body(secret)) >= rule.min_entropy


def _made_up(body: str) -> bool:
    """Typed-out sequences (`abc123xyz-456def`, `0123456789abcdef`) rather than random ones."""
    pairs = [(a, b) for a, b in zip(body, body[1:], strict=False) if a.isalnum() and b.isalnum()]
    if len(pairs) < 12:
        return False
    steps = sum(1 for a, b in pairs if ord(b) - ord(a) == 1)
    return steps / len(pairs) >= 0.4


def _generic_secret(value: str, line: str, min_entropy: float) -> bool:
    """A value under a secret-looking name: random enough, and neither code, path nor word."""
    if len(line) > MAX_GENERIC_LINE or _DOC_LINE.search(line):
        return False
    quoted = any(f"{quote}{value}" in line for quote in "\"'`")
    if _ID_NAME.search(line[: max(line.find(value), 0)]):
        return False  # `private_key_id`, `client_id`: names an id, not a secret
    if "://" in value or _PATH.search(value) or (not quoted and _CODE.search(value)):
        return False
    # Punctuation only around a word is code (`Credentials)`, `token]`), not a password.
    value = value.strip("()[]{}<>,;:'\"`!?*&|")
    if _ALNUM_VALUE.fullmatch(value):
        # Hex draws from 16 symbols: its entropy per character tops out at 4 bits.
        hex_only = len(value) >= 32 and re.fullmatch(r"[0-9a-fA-F]+", value) is not None
        threshold = 3.0 if hex_only else min_entropy
        return len(value) >= 16 and _random_looking(value) and shannon_entropy(value) >= threshold
    return _symbol_secret(value)


def _symbol_secret(value: str) -> bool:
    """A password or key with punctuation (a Django SECRET_KEY, `Zx9!kq$Lw2#mP7`)."""
    if value.startswith("django-insecure-"):
        return len(value) >= 40
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
    # Typed passwords mix all four classes; generated keys may skip one but are long.
    if not (classes == 4 and len(value) >= 10) and not (classes == 3 and len(value) >= 24):
        return False
    if _WEAK_WORDS.search(value.lower().translate(_LEET)):
        return False
    return shannon_entropy(value) >= 3.0


def _random_looking(value: str) -> bool:
    # Generated secrets mix letters and digits; identifiers, UUIDs and words do not count.
    if _UUID.match(value):
        return False
    if _IDENTIFIER.match(value) and ("." in value or not any(c.isdigit() for c in value)):
        return False  # a name in code (`settings.api_key`, `base64.b64encode`), not a value
    if re.fullmatch(r"[A-Za-z0-9_\-]+", value):
        # Names are made of words (`oauth2_token_exchange`, `CohereV2ChatUsage`); random
        # strings break into short runs.
        segments = _SEGMENTS.findall(value)
        if segments and sum(map(len, segments)) / len(segments) >= 3.5:
            return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    return not re.fullmatch(r"[a-z]+(?:[_\-][a-z0-9]+)+|[A-Z]+(?:_[A-Z0-9]+)+", value)


def _body(secret: str) -> str:
    # Entropy of what follows a known prefix, so `xoxb-000…` is judged by its zeros.
    return re.sub(
        r"^(?:xox[a-z]-|xapp-|sk-(?:or-v1-|ant-)?(?:proj-|api\d\d-)?|pat-\w+-|gh\w_|AKIA|ASIA|SG\."
        r"|gl[a-z]+-|(?:sk|rk)_(?:live|test)_|whsec_|AIza|npm_|pypi-AgEIcHlwaS5vcmc|django-insecure-)",
        "",
        secret,
    )
