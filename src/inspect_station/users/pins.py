"""PIN verifiers: scrypt hashing and checking, and what a PIN may be (pure; no storage).

A verifier is ``scrypt$N$r$p$salt$hash`` (base64). The credential table keeps it
(``store.credentials``); the journal never does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import re

from inspect_station.users.model import UserError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
"""scrypt cost of a new PIN verifier: 32 MiB and about 60 ms per check on one core of the
development machine (see README, "PINs and credentials", and ``bench/bench_pin_hash.py``)."""
_SCRYPT_MAX_N, _SCRYPT_MAX_R, _SCRYPT_MAX_P = 2**20, 32, 16
"""Largest parameters a stored verifier may ask for (a hostile row cannot exhaust memory)."""
_SALT_BYTES, _KEY_BYTES = 16, 32
MIN_PIN, MAX_PIN = 6, 12
"""A PIN is this many digits."""


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """A salted scrypt verifier of a PIN: ``scrypt$N$r$p$salt$hash`` (base64)."""
    salt = salt or os.urandom(_SALT_BYTES)
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _KEY_BYTES)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        pin.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=length,
        maxmem=256 * r * (n + p) + (1 << 20),
    )


def check_pin(pin: str, stored: str | None) -> bool:
    """Whether ``pin`` matches a stored verifier (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        if scheme != "scrypt" or not (
            1 < n <= _SCRYPT_MAX_N and n & (n - 1) == 0 and 0 < r <= _SCRYPT_MAX_R
        ):
            return False
        if not 0 < p <= _SCRYPT_MAX_P:
            return False
        digest = base64.b64decode(digest_text, validate=True)
        if not 16 <= len(digest) <= 64:
            return False
        actual = _scrypt(pin, base64.b64decode(salt_text, validate=True), n, r, p, len(digest))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, digest)


def validate_pin(pin: str) -> None:
    """A PIN is 6 to 12 digits (typed with gloves on a numeric pad) and not a trivial one."""
    if not re.fullmatch(rf"[0-9]{{{MIN_PIN},{MAX_PIN}}}", pin or ""):
        raise UserError(f"A PIN is {MIN_PIN} to {MAX_PIN} digits.")
    if trivial_pin(pin):
        raise UserError(
            "That PIN is too easy to guess (one digit repeated, a run such as 123456 or a "
            "short pattern repeated such as 121212); choose another."
        )


def trivial_pin(pin: str) -> bool:
    """Whether a PIN is a repeated digit, a run up or down (123456, 987654) or a repeat of a
    pattern of up to three digits (121212, 123123)."""
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in itertools.pairwise(digits)}
    if len(steps) == 1 and steps <= {0, 1, 9}:
        return True
    return any(len(pin) % k == 0 and pin == pin[:k] * (len(pin) // k) for k in (1, 2, 3))


__all__ = [
    "MAX_PIN",
    "MIN_PIN",
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "check_pin",
    "hash_pin",
    "trivial_pin",
    "validate_pin",
]
