"""Booking codes: what a citizen shows to check in, change or cancel, and keeps to himself.

Ten characters of an alphabet without look-alikes (no 0/O, 1/I/L), 50 random bits: guessing one
at the public limit of tries would take longer than any booking lives. Only the SHA-256 of a
code is stored, like a password that needs no slow hash because it is random.
"""

from __future__ import annotations

import hashlib
import secrets

from jiaoxun.errors import InvalidInput

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normal_code(code: str) -> str:
    """The code as stored: upper case, without the spaces and dashes people type.

    Raises
    ------
    InvalidInput
        When it cannot be a booking code.
    """
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        raise InvalidInput(
            f"a booking code is {LENGTH} characters of {ALPHABET}; got {len(cleaned)} characters"
        )
    return cleaned


def code_sha256(code: str) -> str:
    return hashlib.sha256(normal_code(code).encode()).hexdigest()
