"""Name normalisation shared by supplier matching and the list merge."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise", "normalise_code"]

_LEGAL_SUFFIXES = frozenset({
    "ltd", "limited", "plc", "llc", "llp", "lp", "inc", "incorporated", "co", "corp", "corporation",
    "company", "gmbh", "ag", "ab", "sa", "sas", "sarl", "rl", "bv", "nv", "oy", "as", "spa", "srl", "pty",
})


def normalise(name: str | None) -> str:
    """A matching key for a supplier or list entry name.

    Case, accents, punctuation, ``&``/``and`` and trailing legal forms
    ("Ltd", "S.a r.l.", "AB") are ignored, so "Spotify AB" matches
    "SPOTIFY A.B." and "Telephone & Internet" matches "Telephone and
    Internet". Dots inside abbreviations are dropped rather than spaced.
    """
    if not name:
        return ""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("&", " and ").replace(".", "").replace("'", "")
    words = re.sub(r"[^0-9a-z]+", " ", text).split()
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


def normalise_code(code: str | None) -> str:
    """An account number or short code compared exactly, save case and spaces."""
    return re.sub(r"\s+", "", code or "").lower()
