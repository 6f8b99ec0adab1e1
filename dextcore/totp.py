"""Authenticator (TOTP) codes from a stored secret.

pyotp (2.10+) refuses secrets shorter than 112 bits, but the 16-character
(80-bit) secrets many portals still issue are valid RFC 6238 secrets that
users' authenticator apps accept. We accept anything from 80 bits so a real
user's secret works, and compute codes with pyotp otherwise unchanged.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

import pyotp

__all__ = ["InvalidTotpSecret", "normalise_secret", "totp_now"]

MIN_BYTES = 10  # 80 bits


class InvalidTotpSecret(ValueError):
    pass


class _TOTP(pyotp.TOTP):
    def byte_secret(self) -> bytes:
        return _decode(self.secret)


def _decode(secret: str) -> bytes:
    padded = secret + "=" * (-len(secret) % 8)
    try:
        return base64.b32decode(padded, casefold=True)
    except (binascii.Error, ValueError):
        raise InvalidTotpSecret("not base32 (letters A-Z and digits 2-7)") from None


def normalise_secret(secret: str) -> str:
    """The secret without the spaces it is usually shown with, upper-cased;
    raises :class:`InvalidTotpSecret` if it cannot be a TOTP secret."""
    cleaned = re.sub(r"[\s-]+", "", secret).upper().rstrip("=")
    if len(_decode(cleaned)) < MIN_BYTES:
        raise InvalidTotpSecret("too short for an authenticator secret (at least 16 characters)")
    return cleaned


def totp_now(secret: str, *, at: dt.datetime | None = None) -> str:
    """The current 6-digit code (30-second step) for ``secret``."""
    totp = _TOTP(normalise_secret(secret))
    return totp.at(at) if at is not None else totp.now()
