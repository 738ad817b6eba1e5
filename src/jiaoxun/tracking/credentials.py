"""Device secrets: what proves that a position comes from the device it names.

A device id is a name, not a proof: ids are guessable (``phone-<user name>``, a terminal's
phone number). Each phone app (OsmAnd protocol) and MQTT device gets a random secret when it is
registered, shown once; the server keeps only its SHA-256, like a bank keeps a hash of a PIN,
not the PIN. A secret has 192 bits, so a hash lookup needs no slow hash and no salt.
"""

from __future__ import annotations

import hashlib
import secrets

SECRET_BYTES = 24  # 192 bits


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def secret_sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
