"""Private keys made from the corpus seed, serialised in the forms real projects commit.

Keys are real (a scanner that parses the DER finds a valid key), yet reproducible: RSA
primes come from the seeded generator, EC and Ed25519 keys from seeded scalars, and
`cryptography` only serialises them.
"""

from __future__ import annotations

import base64
import hashlib
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


@dataclass(frozen=True)
class KeyPem:
    """A private key as committed: the PEM text and its public counterpart."""

    kind: str
    pem: str
    public_openssh: str


def _probable_prime(rng: random.Random, bits: int) -> int:
    while True:
        candidate = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if any(candidate % p == 0 for p in _SMALL_PRIMES):
            continue
        if _miller_rabin(candidate, rng):
            return candidate


def _miller_rabin(n: int, rng: random.Random, rounds: int = 12) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _rsa_primes(rng: random.Random, bits: int) -> tuple[int, int]:
    # Pure-Python prime search costs ~0.2 s a key (seconds under load): cache the primes by
    # the generator's seed material so a rerun of the same seed is instant.
    tag = hashlib.sha256(repr(rng.getstate()).encode()).hexdigest()[:24]
    cache = Path(tempfile.gettempdir()) / "scan-corpus-primes" / f"{tag}-{bits}.txt"
    if cache.exists():
        p_text, q_text = cache.read_text().split()
        rng.setstate(random.Random(tag).getstate())
        return int(p_text), int(q_text)
    while True:
        p, q = _probable_prime(rng, bits // 2), _probable_prime(rng, bits // 2)
        if p != q and ((p - 1) * (q - 1)) % 65537:
            break
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(f"{p} {q}")
    rng.setstate(random.Random(tag).getstate())
    return p, q


def rsa_key(rng: random.Random, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key whose primes come from `rng` (so the corpus is reproducible)."""
    e = 65537
    p, q = _rsa_primes(rng, bits)
    phi = (p - 1) * (q - 1)
    d = pow(e, -1, phi)
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


def _openssh_public(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def _pem(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
    fmt: serialization.PrivateFormat,
    password: bytes | None = None,
) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def _openssh_seeded(pem: str, rng: random.Random) -> str:
    """OpenSSH keys carry a random 32-bit check value: replace it with a seeded one."""
    lines = pem.strip().splitlines()
    blob = bytearray(base64.b64decode("".join(lines[1:-1])))
    offset = len(b"openssh-key-v1\0")
    for _ in range(3):  # cipher name, kdf name, kdf options
        offset += 4 + int.from_bytes(blob[offset : offset + 4], "big")
    offset += 4  # number of keys
    offset += 4 + int.from_bytes(blob[offset : offset + 4], "big")  # public key
    offset += 4  # length of the private block, which starts with the check value twice
    check = rng.randbytes(4)
    blob[offset : offset + 8] = check + check
    body = base64.b64encode(bytes(blob)).decode()
    rows = [body[i : i + 70] for i in range(0, len(body), 70)]
    return "\n".join([lines[0], *rows, lines[-1]]) + "\n"


def gcp_key(rng: random.Random) -> KeyPem:
    """The RSA-2048 PKCS#8 key Google puts in a service-account JSON file."""
    key = rsa_key(rng)
    return KeyPem("pkcs8-rsa", _pem(key, serialization.PrivateFormat.PKCS8), _openssh_public(key))


def any_key(rng: random.Random) -> KeyPem:
    """One private key in a common committed form: PKCS#1 RSA, PKCS#8, EC, OpenSSH."""
    kind = rng.choice(
        [
            "rsa-pkcs1",
            "pkcs8-rsa",
            "ec-sec1",
            "pkcs8-ec",
            "openssh-ed25519",
            "openssh-rsa",
            "openssh-ecdsa",
        ]
    )
    if kind in ("rsa-pkcs1", "pkcs8-rsa", "openssh-rsa"):
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey = rsa_key(
            rng, rng.choice([2048, 2048, 3072])
        )
    elif kind == "openssh-ed25519":
        key = ed25519.Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    else:
        curve = ec.SECP256R1()
        key = ec.derive_private_key(rng.randrange(1, 2**255), curve)
    fmt = {
        "rsa-pkcs1": serialization.PrivateFormat.TraditionalOpenSSL,
        "ec-sec1": serialization.PrivateFormat.TraditionalOpenSSL,
        "pkcs8-rsa": serialization.PrivateFormat.PKCS8,
        "pkcs8-ec": serialization.PrivateFormat.PKCS8,
    }.get(kind, serialization.PrivateFormat.OpenSSH)
    pem = _pem(key, fmt)
    if fmt == serialization.PrivateFormat.OpenSSH:
        pem = _openssh_seeded(pem, rng)
    return KeyPem(kind, pem, _openssh_public(key))
