"""Passwords: the rule a new one must meet, and the hashing of them.

The rule is OWASP ASVS 4.0 section 2.1 (NIST SP 800-63B 5.1.1): long rather than clever — at
least 12 characters and at most 128, any character, no composition rules — and not one an
attacker tries first: not the user name, not a common password (the 10,000 most common, shipped
in `common-passwords.txt`, also with digits or symbols stuck around one), not one character
repeated. A broken rule is an `InvalidInput` that names it; no message ever holds the password.

Hashes are Argon2id with the parameters of RFC 9106's second recommended option, the "low
memory" one, which are argon2-cffi's defaults, set here by name so that an upgrade of the
library cannot change them silently: 64 MiB of memory, 3 passes, 4 lanes, a 16-byte salt, a
32-byte hash. Each hash takes 64 MiB for about 0.1 s, which is why the login gate lets only a
few run at once.
"""

from __future__ import annotations

import functools
import re
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from jiaoxun.errors import InvalidInput

MIN_PASSWORD = 12
MAX_PASSWORD = 128
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")

HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)
# what is left of "Password2024!" once digits and symbols around it are taken off
_AFFIXES = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.DOTALL)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, case-folded."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def check_password(password: str, *, username: str) -> None:
    """Raise `InvalidInput` naming the first rule `password` breaks as `username`'s password."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD} characters, got {len(password)}"
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            f"password must have at most {MAX_PASSWORD} characters, got {len(password)}"
        )
    folded = password.casefold()
    if not password.strip() or len(set(folded)) == 1:
        raise InvalidInput("password must not be one character repeated or only white space")
    if username and username.casefold() in folded:
        raise InvalidInput("password must not contain the user name")
    core = _AFFIXES.fullmatch(folded)
    if folded in common_passwords() or (core is not None and core[1] in common_passwords()):
        raise InvalidInput(
            f"password must not be one of the {len(common_passwords()):,} most common passwords"
            " (with or without digits and symbols around it)"
        )


def new_password() -> str:
    """A random password for a first login or a reset: 16 characters, 96 bits."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash (an unknown user) the same work is done
    against a hash of nothing anyone knows, and the answer is no."""
    try:
        return HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(32))
